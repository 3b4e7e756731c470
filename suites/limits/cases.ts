/**
 * LM: volume limits. A driver that declares volumeLimits reports, through NodeGetInfo, how many of
 * its volumes a node can take; the kubelet publishes it in CSINode, where the scheduler reads it.
 */
import { expect } from "vitest";
import { attachText } from "../../harness/evidence/allure.ts";
import type { Case } from "../../harness/case/runtime.ts";

const area = "volume limits";

export const LIMIT_CASES: Case[] = [
  {
    meta: {
      id: "LM-01",
      area,
      title: "every node's CSINode carries the driver's volume limit",
      requires: { types: ["csi" as const], capabilities: ["volumeLimits" as const] },
      asserts:
        "on every worker, the CSINode entry of the driver has allocatable.count, a positive whole number (the scheduler's volume limit for the node)",
    },
    body: async (c) => {
      const name = c.driver.spec.csi?.driverName;
      const seen: string[] = [];
      for (const node of c.workers) {
        const entry = (await c.kube.read("CSINode", node)).spec.drivers.find((d) => d.name === name);
        seen.push(
          `${node}: ${entry ? `allocatable.count ${entry.allocatable?.count ?? "unset"}` : "driver not registered"}`,
        );
        expect(entry, `${name} registered in CSINode ${node}`).toBeDefined();
        const count = entry?.allocatable?.count;
        expect(Number.isInteger(count) && (count as number) > 0, `allocatable.count on ${node}: ${count}`).toBe(true);
      }
      await attachText("CSINode volume limits", seen.join("\n"));
    },
  },
];
