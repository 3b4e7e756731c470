import { describe, expect, test } from "vitest";
import { DriverDefect } from "./errors.ts";
import { waitFor, WaitTimeout } from "./wait.ts";

describe("named bounded waits", () => {
  test("returns the value once the condition holds", async () => {
    let n = 0;
    const v = await waitFor("counter reaches 3", async () => ({ done: ++n >= 3, value: n, seen: `n=${n}` }), {
      timeoutMs: 5000,
      intervalMs: 1,
    });
    expect(v).toBe(3);
  });

  test("on timeout names the wait, the limit and the last state seen", async () => {
    const err = await waitFor(
      "PVC data-1 Bound",
      async () => ({ done: false, seen: "phase Pending; last event ProvisioningFailed: boom" }),
      {
        timeoutMs: 30,
        intervalMs: 5,
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toMatch(
      /^PVC data-1 Bound: not done after \d+s \(\d+ checks\); last seen: phase Pending; last event ProvisioningFailed: boom$/,
    );
  });

  test("a probe that throws is reported, not fatal", async () => {
    const err = await waitFor(
      "api answers",
      async () => {
        throw new Error("ECONNREFUSED 10.0.0.1:6443\nstack");
      },
      { timeoutMs: 20, intervalMs: 5 },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toContain("last seen: probe failed: ECONNREFUSED 10.0.0.1:6443");
  });

  test("the caller decides whom a timeout blames", async () => {
    const err = await waitFor("x", async () => ({ done: false, seen: "s" }), {
      timeoutMs: 10,
      intervalMs: 5,
      onTimeout: (m) => new DriverDefect(m),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
  });
});
