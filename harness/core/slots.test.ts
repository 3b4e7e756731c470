import { describe, expect, test } from "vitest";
import { withSignal } from "./abort.ts";
import { Slots } from "./slots.ts";

const tick = () => new Promise((r) => setImmediate(r));
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("Slots", () => {
  test("never more than size holders at once, first come first served", async () => {
    const slots = new Slots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = [0, 1, 2, 3, 4].map(() => gate());
    const all = gates.map((g, i) =>
      slots.use(async () => {
        order.push(i);
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
      }),
    );
    await tick();
    expect(order).toEqual([0, 1]);
    expect(slots.full).toBe(true);
    gates[1]!.resolve();
    await tick();
    expect(order).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(slots.full).toBe(false);
  });

  test("a holder that throws gives its slot back", async () => {
    const slots = new Slots(1);
    await expect(slots.use(() => Promise.reject(new Error("kind create failed")))).rejects.toThrow(
      "kind create failed",
    );
    await expect(slots.use(async () => "next")).resolves.toBe("next");
  });

  test("a stopped run stops waiting for a slot, and its place in the queue is given up", async () => {
    const slots = new Slots(1);
    const first = gate();
    const holder = slots.use(() => first.promise);
    const stop = new AbortController();
    const waiting = withSignal(stop.signal, () => slots.use(async () => "never"));
    await tick();
    stop.abort(new Error("SIGINT"));
    await expect(waiting).rejects.toThrow("SIGINT");
    first.resolve();
    await holder;
    await expect(slots.use(async () => "free")).resolves.toBe("free");
  });

  test("size must be a positive integer", () => {
    expect(() => new Slots(0)).toThrow(RangeError);
  });
});
