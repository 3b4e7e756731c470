import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DriverDefect, InfraError } from "../core/errors.ts";
import type { Fault } from "../faults/fault.ts";
import { clusterBrokenReason, healFaults, healVerdict, markClusterBroken } from "./heal.ts";

const fault = (log: string[], name: string, fails = false): Fault => ({
  name,
  healed: false,
  async heal() {
    log.push(name);
    if (fails) throw new Error(`${name} would not heal`);
  },
  [Symbol.asyncDispose]: async () => undefined,
});
const healthy = async () => ({ infrastructure: [], driver: [] });

describe("healing after a disruptive case", () => {
  test("every fault is healed, last injected first, even when one fails; then the cluster is checked", async () => {
    const log: string[] = [];
    const marks: string[] = [];
    const out = await healFaults(
      [fault(log, "kubelet stopped"), fault(log, "node paused", true), fault(log, "taint")],
      healthy,
      (m) => marks.push(m),
    );
    expect(log).toEqual(["taint", "node paused", "kubelet stopped"]);
    expect(out.infrastructure).toEqual(['heal "node paused": node paused would not heal']);
    expect(marks).toEqual(["cluster healthy again"]); // the health check passed; the failed heal still fails the case
    expect(healVerdict("NF-06", out)).toBeInstanceOf(InfraError);
  });

  test("the driver's own workloads not recovering is the driver's failure; the cluster's is infrastructure", async () => {
    const own = await healFaults(
      [],
      async () => ({ infrastructure: [], driver: ["DaemonSet x/node 1/2 ready"] }),
      () => {},
    );
    expect(healVerdict("NF-08", own)).toBeInstanceOf(DriverDefect);
    const both = await healFaults(
      [],
      async () => ({ infrastructure: ["node w2 not Ready"], driver: ["DaemonSet x/node 1/2 ready"] }),
      () => {},
    );
    expect(healVerdict("NF-04", both)).toBeInstanceOf(InfraError);
  });

  test("a healthy cluster is marked on the timeline and gives no verdict", async () => {
    const marks: string[] = [];
    const out = await healFaults([], healthy, (m) => marks.push(m));
    expect(healVerdict("NF-01", out)).toBe(null);
    expect(marks).toEqual(["cluster healthy again"]);
  });

  test("a health check that cannot observe the cluster is infrastructure", async () => {
    const out = await healFaults(
      [],
      async () => {
        throw new Error("API server unreachable");
      },
      () => {},
    );
    expect(out.infrastructure).toEqual(["API server unreachable"]);
  });

  test("a cluster that could not be healed is remembered for the rest of the run", () => {
    const dir = mkdtempSync(join(tmpdir(), "volcert-run-"));
    expect(clusterBrokenReason(dir)).toBe(null);
    markClusterBroken(dir, "NF-04", ["node w1 not Ready"]);
    expect(clusterBrokenReason(dir)).toBe("after NF-04: node w1 not Ready");
  });
});
