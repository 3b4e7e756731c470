import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { currentSignal } from "../core/abort.ts";
import type { ClusterTarget } from "./cluster-target.ts";
import { ImageLoads } from "./image-loads.ts";
import { laneImages, type DriverInstall, type Lane } from "./lane.ts";

/** A loader that records each call and settles when told to. */
function recordingLoader() {
  const calls: { images: string[]; settle: (err?: Error) => void }[] = [];
  const load = (images: readonly string[]) =>
    new Promise<void>((resolve, reject) =>
      calls.push({ images: [...images], settle: (err) => (err ? reject(err) : resolve()) }),
    );
  return { calls, load };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("image loads", () => {
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  afterEach(() => stderr.mockClear());
  afterAll(() => stderr.mockRestore());

  test("an install's images carried by the batch are not loaded again; the batch's images once, shared ones too", async () => {
    const { calls, load } = recordingLoader();
    const loads = new ImageLoads(load, "cluster c");
    loads.preload(["a", "b", "c", "a"]);
    expect(calls.map((c) => c.images)).toEqual([["a", "b", "c"]]);
    let done = false;
    const install = loads.load(["b", "a"]).then(() => (done = true));
    await tick();
    expect(done).toBe(false); // waits for the batch
    calls[0]?.settle();
    await install;
    expect(calls).toHaveLength(1);
    await loads.load(["c"]);
    loads.preload(["a", "c"]);
    expect(calls).toHaveLength(1);
    expect(String(stderr.mock.calls.map((c) => c[0]).join(""))).toMatch(/loaded 3 image\(s\) .* cluster c at once/);
  });

  test("a batch the nodes already had (the drivers' node image) says so", async () => {
    const loads = new ImageLoads(() => Promise.resolve([]), "cluster c");
    loads.preload(["a", "b"]);
    await loads.load(["a", "b"]);
    expect(String(stderr.mock.calls.map((c) => c[0]).join(""))).toMatch(
      /2 image\(s\) for its installs already in the nodes of cluster c/,
    );
  });

  test("images outside the batch are loaded by the install that needs them, and only once", async () => {
    const { calls, load } = recordingLoader();
    const loads = new ImageLoads(load, "cluster c");
    loads.preload(["a"]);
    calls[0]?.settle();
    const first = loads.load(["a", "x"]);
    await tick();
    expect(calls[1]?.images).toEqual(["x"]);
    calls[1]?.settle();
    await first;
    await loads.load(["x"]);
    expect(calls).toHaveLength(2);
  });

  test("a failed batch: each install loads its own images, and its own failure is the one it reports", async () => {
    const { calls, load } = recordingLoader();
    const loads = new ImageLoads(load, "cluster c");
    loads.preload(["a", "broken"]);
    calls[0]?.settle(new Error("image broken: no such image"));
    const good = loads.load(["a"]);
    await tick();
    expect(calls[1]?.images).toEqual(["a"]);
    calls[1]?.settle();
    await good;
    const bad = loads.load(["broken"]);
    await tick();
    expect(calls[2]?.images).toEqual(["broken"]);
    calls[2]?.settle(new Error("image broken: no such image"));
    await expect(bad).rejects.toThrow(/no such image/);
    expect(String(stderr.mock.calls.map((c) => c[0]).join(""))).toMatch(/at once failed, each install loads its own/);
  });

  test("settle stops a batch nobody waited for (its load sees the abort) and waits for it; nothing starts after", async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const load = () =>
      new Promise<void>((_, reject) => {
        const signal = currentSignal();
        signals.push(signal);
        signal?.addEventListener("abort", () => setTimeout(() => reject(new Error("killed")), 20));
      });
    const loads = new ImageLoads(load, "cluster c");
    loads.preload(["a", "b"]);
    let settled = false;
    const settling = loads.settle().then(() => (settled = true));
    await tick();
    expect(signals[0]?.aborted).toBe(true);
    expect(settled).toBe(false); // until the load has ended
    await settling;
    expect(String(stderr.mock.calls.map((c) => c[0]).join(""))).toMatch(/stopped loading 2 image/);
    loads.preload(["c"]);
    expect(signals).toHaveLength(1);
  });
});

describe("the images a lane preloads", () => {
  const driver = (name: string, images: string[], installed = false) =>
    ({ definition: { metadata: { name } }, baseDir: "/d", images, installed }) as unknown as DriverInstall;
  const lane = (install: DriverInstall[], snapshotImages?: string[]) =>
    ({ install, ...(snapshotImages ? { snapshotApi: { images: snapshotImages } } : {}) }) as unknown as Lane;
  const target = (createdByVolcert: boolean) => ({ cluster: { createdByVolcert } }) as unknown as ClusterTarget;

  test("drivers volcert installs and the VolumeSnapshot API where volcert installs it; drivers already there never", () => {
    const drivers = [driver("a", ["img/a", "img/shared"]), driver("b", ["img/b"], true), driver("c", ["img/shared"])];
    expect(laneImages(lane(drivers, ["img/snap"]), target(true))).toEqual([
      "img/snap",
      "img/a",
      "img/shared",
      "img/shared",
    ]);
    expect(laneImages(lane(drivers, ["img/snap"]), target(false))).toEqual(["img/a", "img/shared", "img/shared"]);
    expect(laneImages(lane(drivers), target(true))).toEqual(["img/a", "img/shared", "img/shared"]);
  });
});
