import { describe, expect, test } from "vitest";
import { parseDriverText } from "../drivers/load.ts";
import { caseBudget } from "./budget.ts";
import { driverAttaches, gateReason, type GateFacts } from "./gate.ts";

const driver = (spec: string) =>
  parseDriverText(`apiVersion: volcert.io/v1alpha1\nkind: Driver\nmetadata: { name: d }\nspec:\n${spec}`, "d.yaml")
    .definition;
const hostPath = driver("  type: in-tree\n  inTree: { plugin: hostPath }\n  capabilities: { persistence: true }\n");
const csi = (attach: boolean) =>
  driver(
    `  type: csi\n  csi:\n    driverName: x.csi\n    manifests: [a.yaml]\n    node: { kind: DaemonSet, name: n, namespace: ns }\n    expect: { attachRequired: ${attach} }\n`,
  );
const facts: GateFacts = { workers: 2, nodeLifecycle: true, createdByVolcert: true, allowDisruptive: false };

describe("case gate (decided before any cluster work)", () => {
  test("runs when every requirement is met", () => {
    expect(gateReason({ capabilities: ["persistence"], workers: 2, nodeLifecycle: true }, true, hostPath, facts)).toBe(
      null,
    );
  });

  test("capabilities, plugin, attach, workers and node lifecycle each give their own reason", () => {
    expect(gateReason({ capabilities: ["exec"] }, false, hostPath, facts)).toMatch(/capability "exec"/);
    expect(gateReason({ inTreePlugins: ["local"] }, false, hostPath, facts)).toMatch(
      /applies to the in-tree local plugin; d is in-tree hostPath/,
    );
    expect(gateReason({ attach: true }, false, csi(false), facts)).toMatch(/does not attach volumes/);
    expect(gateReason({ attach: true }, false, csi(true), facts)).toBe(null);
    expect(gateReason({ workers: 3 }, false, hostPath, facts)).toMatch(/needs 3 worker nodes; this cluster has 2/);
    expect(gateReason({ maxWorkers: 1 }, false, hostPath, facts)).toMatch(/at most 1 schedulable/);
    expect(gateReason({ nodeLifecycle: true }, false, hostPath, { ...facts, nodeLifecycle: false })).toMatch(
      /control of the nodes from outside them/,
    );
  });

  test("disruptive cases stay off clusters volcert did not create unless allowed", () => {
    const foreign = { ...facts, createdByVolcert: false };
    expect(gateReason(undefined, true, hostPath, foreign)).toMatch(/--allow-disruptive/);
    expect(gateReason(undefined, true, hostPath, { ...foreign, allowDisruptive: true })).toBe(null);
    expect(gateReason(undefined, false, hostPath, foreign)).toBe(null);
  });

  test("only CSI drivers that declare attachRequired attach", () => {
    expect(driverAttaches(csi(true))).toBe(true);
    expect(driverAttaches(csi(false))).toBe(false);
    expect(driverAttaches(hostPath)).toBe(false);
  });
});

describe("case budget", () => {
  test("scales with the driver's multiplier, and Vitest's timeout is above body and cleanup", () => {
    const slow = driver("  type: in-tree\n  inTree: { plugin: hostPath }\n  timeoutMultiplier: 3\n");
    const normal = caseBudget(hostPath, false);
    expect(caseBudget(slow, false).bodyMs).toBe(3 * normal.bodyMs);
    expect(normal.vitestMs).toBeGreaterThan(normal.bodyMs + normal.cleanupMs);
  });

  test("disruptive cases get time for the fault and for healing", () => {
    const e2e = caseBudget(hostPath, false);
    const chaos = caseBudget(hostPath, true);
    expect(chaos.bodyMs - e2e.bodyMs).toBe(30 * 60_000);
    expect(chaos.cleanupMs).toBeGreaterThan(e2e.cleanupMs);
  });
});
