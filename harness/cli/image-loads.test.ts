import { afterEach, describe, expect, test, vi } from "vitest";
import { ImageLoads } from "./image-loads.ts";

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
});
