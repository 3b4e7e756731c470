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
      asserts: "on every node the executable sits in kubelet's plugin directory, `init` answers Success with attach:false, and kubelet logged the plugin",
    },
    body: async (c) => {
      const d = c.driver;
      expect(d?.spec.flexVolume).toBeDefined();
      const { file, pluginName } = flexPaths(d!);
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
        const log = await exec("docker", ["exec", node, "sh", "-c", `journalctl -u kubelet --no-pager -o cat | grep -cF '${pluginName}' || true`], { timeoutMs: 30_000 });
        expect(Number(log.stdout.trim()), `kubelet on ${node} mentions ${pluginName}`).toBeGreaterThan(0);
      }
      await attachText("init replies", found.join("\n"));
    },
  },
];
