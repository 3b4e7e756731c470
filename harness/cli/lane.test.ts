import { describe, expect, test } from "vitest";
import { creationOrder } from "./lane.ts";

const lane = (name: string, images: number[], snapshotImages = 0, installed = false) => ({
  name,
  install: images.map((n) => ({ images: Array.from({ length: n }, (_, i) => `img-${i}`), installed })),
  ...(snapshotImages ? { snapshotApi: { images: Array.from({ length: snapshotImages }, () => "s") } } : {}),
});

describe("creation order", () => {
  test("the main cluster first, then the chaos lanes with the most images to load, ties in plan order", () => {
    const main = lane("main", [2, 7, 0, 0, 0], 1);
    const chaos = [lane("nf1", [2]), lane("nf2", [7], 1), lane("nf3", [0]), lane("nf4", [0]), lane("nf5", [2])];
    // The helper only reads install and snapshotApi.
    const order = creationOrder(main as never, chaos as never[]) as unknown as { name: string }[];
    expect(order.map((l) => l.name)).toEqual(["main", "nf2", "nf1", "nf5", "nf3", "nf4"]);
  });

  test("a driver already installed loads nothing", () => {
    const order = creationOrder(lane("main", []) as never, [lane("a", [1]), lane("b", [9], 0, true)] as never[]);
    expect((order as unknown as { name: string }[]).map((l) => l.name)).toEqual(["main", "a", "b"]);
  });
});
