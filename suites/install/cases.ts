/**
 * IN: driver installation and declaration. Runs for every driver; the installer already waited for
 * readiness, these cases check it independently and record what was found on each node.
 */
import { expect } from "vitest";
import { exec } from "../../harness/core/exec.ts";
import { flexPaths } from "../../harness/drivers/flexvolume.ts";
import { attachText } from "../../harness/evidence/allure.ts";
import { nodeContainers } from "../../harness/evidence/collect.ts";
import type { Case } from "../support/case.ts";

const area = "installation";

export const INSTALL_CASES: Case[] = [
  {
    meta: {
      id: "IN-01",
      area,
      title: "the FlexVolume driver is installed and initialised on every node",
      requires: { types: ["flexvolume"] },
      asserts: "on every node the executable sits in kubelet's plugin directory with mode 0755, and `init` (run in the node as kubelet runs it) answers Success with attach:false",
    },
    body: async (c) => {
      const d = c.driver;
      expect(d?.spec.flexVolume).toBeDefined();
      const { file } = flexPaths(d!);
      const nodes = await nodeContainers(c.cluster);
      expect(nodes.length).toBeGreaterThan(0);
      const found: string[] = [];
      for (const node of nodes) {
        const init = await exec("docker", ["exec", node, file, "init"], { nothrow: true, timeoutMs: 30_000 });
        found.push(`${node}: ${init.stdout.trim() || init.stderr.trim()}`);
        expect(init.ok, `${file} init on ${node}`).toBe(true);
        const reply = JSON.parse(init.stdout) as { status: string; capabilities?: { attach?: boolean } };
        expect(reply.status).toBe("Success");
        expect(reply.capabilities?.attach).toBe(false);
        const mode = await exec("docker", ["exec", node, "stat", "-c", "%a %U", file], { timeoutMs: 30_000 });
        expect(mode.stdout.trim(), `${file} on ${node}`).toBe("755 root");
      }
      await attachText("init replies", found.join("\n"));
    },
  },
];
