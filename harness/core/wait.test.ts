import { describe, expect, test } from "vitest";
import { withSignal } from "./abort.ts";
import { DriverDefect, InfraError } from "./errors.ts";
import { DriverWaitTimeout, holdsFor, Verdict, waitFor, WaitTimeout } from "./wait.ts";

const fast = { timeoutMs: 30, intervalMs: 5 };

describe("named bounded waits", () => {
  test("returns the value once the condition holds", async () => {
    let n = 0;
    const v = await waitFor("counter reaches 3", async () => ({ done: ++n >= 3, value: n, seen: `n=${n}` }), {
      timeoutMs: 5000,
      intervalMs: 1,
      blame: "driver",
    });
    expect(v).toBe(3);
  });

  test("on timeout names the wait, the limit and the last state seen, and blames whom the wait says", async () => {
    const probe = async () => ({ done: false, seen: "phase Pending; last event ProvisioningFailed: boom" });
    const driver = await waitFor("PVC data-1 Bound", probe, { ...fast, blame: "driver" }).catch((e: unknown) => e);
    expect(driver).toBeInstanceOf(DriverWaitTimeout);
    expect(driver).toBeInstanceOf(DriverDefect);
    expect((driver as DriverWaitTimeout).wait).toBe("PVC data-1 Bound");
    expect((driver as Error).message).toMatch(
      /^PVC data-1 Bound: not done after \d+s \(\d+ checks\); last seen: phase Pending; last event ProvisioningFailed: boom$/,
    );
    const infra = await waitFor("nodes Ready", probe, { ...fast, blame: "infrastructure" }).catch((e: unknown) => e);
    expect(infra).toBeInstanceOf(WaitTimeout);
    expect(infra).toBeInstanceOf(InfraError);
  });

  test("the last observation may say whose the timeout is (a claim the control plane never bound)", async () => {
    let n = 0;
    const probe = async () =>
      ++n < 3
        ? { done: false, seen: "phase Pending; no volume yet" }
        : { done: false, seen: "volume made, not bound by the PV controller", blame: "infrastructure" as const };
    // Long enough for three checks on a loaded machine (30 ms was not, next to a running cluster).
    const err = await waitFor("PVC data-1 Bound", probe, { timeoutMs: 1000, intervalMs: 5, blame: "driver" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toContain("last seen: volume made, not bound by the PV controller");
    // An earlier observation's blame does not outlive it.
    let m = 0;
    const back = async () =>
      ++m === 1
        ? { done: false, seen: "stalled", blame: "infrastructure" as const }
        : { done: false, seen: "again Pending" };
    expect(
      await waitFor("PVC data-2 Bound", back, { timeoutMs: 1000, intervalMs: 5, blame: "driver" }).catch(
        (e: unknown) => e,
      ),
    ).toBeInstanceOf(DriverWaitTimeout);
  });

  test("the costly explanation of what was seen is asked once, for the observation the wait ends on", async () => {
    let checks = 0;
    let explained = 0;
    const probe = async () => ({
      done: false,
      seen: `phase Pending (check ${++checks})`,
      explain: async () => ({
        seen: `phase Pending (check ${checks}); last event ${++explained}`,
        blame: "infrastructure" as const,
      }),
    });
    const err = await waitFor("PVC data-1 Bound", probe, { timeoutMs: 300, intervalMs: 5, blame: "driver" }).catch(
      (e: unknown) => e,
    );
    expect(checks).toBeGreaterThan(1);
    expect(explained).toBe(1);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toMatch(new RegExp(`last seen: phase Pending \\(check ${checks}\\); last event 1$`));
    // An explanation that cannot be had leaves what was seen, says so, and blames nobody's product:
    // whose the timeout is could not be told (as when the probe itself cannot observe).
    const failing = async () => ({
      done: false,
      seen: "phase Pending",
      explain: async () => {
        throw new Error("events: connect ECONNREFUSED");
      },
    });
    const e2 = await waitFor("PVC data-2 Bound", failing, { ...fast, blame: "driver" }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(WaitTimeout);
    expect((e2 as Error).message).toMatch(
      /last seen: phase Pending; \(more could not be observed: events: connect ECONNREFUSED\) \(the state could not be observed, so this is not blamed on the driver\)$/,
    );
  });

  test("a probe that cannot observe is retried, and an outage at the end is never blamed on the driver", async () => {
    const err = await waitFor(
      "PVC data-1 Bound",
      async () => {
        throw new Error("connect ECONNREFUSED 10.0.0.1:6443\nstack");
      },
      { ...fast, blame: "driver" },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toContain("last seen: probe failed: connect ECONNREFUSED 10.0.0.1:6443");
    expect((err as Error).message).toContain("not blamed on the driver");
  });

  test("a Verdict thrown by the probe ends the wait at once with its error", async () => {
    let checks = 0;
    const err = await waitFor(
      "replacement stays Pending",
      async () => {
        checks++;
        throw new Verdict(new DriverDefect("scheduled onto worker2"));
      },
      { timeoutMs: 5000, intervalMs: 1, blame: "infrastructure" },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
    expect(checks).toBe(1);
  });

  test("stops when the current case's signal aborts", async () => {
    const ac = new AbortController();
    const pending = withSignal(ac.signal, () =>
      waitFor("forever", async () => ({ done: false, seen: "s" }), {
        timeoutMs: 60_000,
        intervalMs: 10,
        blame: "driver",
      }),
    );
    setTimeout(() => ac.abort(new Error("case budget spent")), 20);
    await expect(pending).rejects.toThrow("case budget spent");
  });
});

describe("holdsFor", () => {
  test("passes when the condition holds for the whole window", async () => {
    let n = 0;
    const seen = await holdsFor("claim stays Pending", async () => ({ holds: true, seen: `Pending ${++n}` }), {
      durationMs: 30,
      intervalMs: 5,
      blame: "driver",
    });
    expect(n).toBeGreaterThan(1);
    expect(seen).toMatch(/^Pending \d+$/);
  });

  test("fails at once, blaming the driver, when it stops holding", async () => {
    const started = Date.now();
    const err = await holdsFor("claim stays Pending", async () => ({ holds: false, seen: "phase Bound" }), {
      durationMs: 10_000,
      blame: "driver",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
    expect((err as Error).message).toMatch(/^claim stays Pending: stopped holding after \d+ s: phase Bound$/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
