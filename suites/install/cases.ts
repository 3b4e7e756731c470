/**
 * IN: driver installation and declaration. Runs for every driver; the installer already waited for
 * readiness, these cases check it independently and record what was found on each node.
 */
import { expect } from "vitest";
import { flexPaths } from "../../harness/drivers/flexvolume.ts";
import { attachText } from "../../harness/evidence/allure.ts";
import { stringify } from "yaml";
import { ConfigError } from "../../harness/core/errors.ts";
import { parseDriverText } from "../../harness/drivers/load.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { CLUSTER_LIMITS } from "../../harness/case/limits.ts";
import { caseClaim, startPodOn } from "../../harness/case/claim.ts";
import { DriverDefect } from "../../harness/core/errors.ts";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { latestEvent } from "../../harness/k8s/events.ts";

const area = "installation";

export const INSTALL_CASES: Case[] = [
  {
    meta: {
      id: "IN-01",
      area,
      title: "the FlexVolume driver is installed and initialised on every node",
      requires: { types: ["flexvolume"] },
      verifiesInstall: true,
      asserts:
        "on every node the executable sits in kubelet's plugin directory with mode 0755, and `init` (run in the node as kubelet runs it) answers Success with attach:false",
    },
    body: async (c) => {
      const d = c.driver;
      expect(d.spec.flexVolume).toBeDefined();
      const { file } = flexPaths(d);
      const nodes = await c.nodes.nodes();
      expect(nodes.length).toBeGreaterThan(0);
      const found: string[] = [];
      for (const node of nodes) {
        const init = await c.nodes.exec(node, [file, "init"], { nothrow: true, timeoutMs: CLUSTER_LIMITS.nodeCommand });
        found.push(`${node}: ${init.stdout.trim() || init.stderr.trim()}`);
        expect(init.ok, `${file} init on ${node}`).toBe(true);
        const reply = JSON.parse(init.stdout) as { status: string; capabilities?: { attach?: boolean } };
        expect(reply.status).toBe("Success");
        expect(reply.capabilities?.attach).toBe(false);
        const mode = await c.nodes.exec(node, ["stat", "-c", "%a %U", file], { timeoutMs: CLUSTER_LIMITS.nodeCommand });
        expect(mode.stdout.trim(), `${file} on ${node}`).toBe("755 root");
      }
      await attachText("init replies", found.join("\n"));
    },
  },
  {
    meta: {
      id: "IN-02",
      area,
      title: "declared capabilities match what the cluster shows (CSIDriver, CSINode, StorageClass)",
      requires: { types: ["csi"] },
      verifiesInstall: true,
      asserts:
        "the CSIDriver object's attachRequired, fsGroupPolicy, volumeLifecycleModes and storageCapacity equal the driver file's csi.expect; every node's CSINode lists the driver (with a topology key when the driver declares topology); each StorageClass's allowVolumeExpansion agrees with controllerExpansion. A mismatch shows both values",
    },
    body: async (c) => {
      const d = c.driver;
      const csi = d.spec.csi!;
      const found: string[] = [];
      const obj = await c.kube.storage.readCSIDriver({ name: csi.driverName });
      const actual = {
        attachRequired: obj.spec.attachRequired,
        fsGroupPolicy: obj.spec.fsGroupPolicy,
        volumeLifecycleModes: obj.spec.volumeLifecycleModes,
        storageCapacity: obj.spec.storageCapacity ?? false,
      };
      found.push(`CSIDriver ${csi.driverName}: ${JSON.stringify(actual)}`);
      for (const [key, want] of Object.entries(csi.expect)) {
        expect(
          actual[key as keyof typeof actual],
          `CSIDriver ${csi.driverName} ${key}: driver file says ${JSON.stringify(want)}, cluster says ${JSON.stringify(actual[key as keyof typeof actual])}`,
        ).toEqual(want);
      }
      const nodes = (await c.kube.core.listNode()).items.map((n) => n.metadata?.name as string);
      for (const node of nodes) {
        const entry = (await c.kube.storage.readCSINode({ name: node })).spec.drivers?.find(
          (x) => x.name === csi.driverName,
        );
        found.push(
          `CSINode ${node}: ${entry ? `nodeID ${entry.nodeID}, topologyKeys ${JSON.stringify(entry.topologyKeys ?? [])}` : "not registered"}`,
        );
        expect(entry, `CSINode ${node} lists ${csi.driverName}`).toBeDefined();
        if (d.spec.capabilities.topology)
          expect(entry?.topologyKeys ?? [], `driver declares topology; CSINode ${node} topologyKeys`).not.toEqual([]);
      }
      for (const sc of d.spec.storageClasses) {
        const live = await c.kube.storage.readStorageClass({ name: sc.name });
        found.push(`StorageClass ${sc.name}: allowVolumeExpansion ${String(live.allowVolumeExpansion ?? false)}`);
        expect(
          live.allowVolumeExpansion ?? false,
          `StorageClass ${sc.name} allowVolumeExpansion vs capability controllerExpansion=${String(!!d.spec.capabilities.controllerExpansion)}`,
        ).toBe(!!d.spec.capabilities.controllerExpansion);
        expect(live.provisioner, `StorageClass ${sc.name} provisioner`).toBe(csi.driverName);
      }
      await attachText("what the cluster shows", found.join("\n"));
    },
  },
  {
    meta: {
      id: "IN-03",
      area,
      title: "a definition with an unknown key or a wrong type is rejected before any cluster work",
      asserts:
        'the driver\'s own definition with a misspelled capability (persistance) and a wrong type (timeoutMultiplier: "fast") is rejected with a ConfigError that lists both problems and suggests "persistence"',
    },
    body: async (c: CaseContext) => {
      const doc = JSON.parse(JSON.stringify(c.driver)) as {
        spec: { capabilities: Record<string, unknown>; timeoutMultiplier: unknown };
      };
      doc.spec.capabilities["persistance"] = true;
      doc.spec.timeoutMultiplier = "fast";
      const text = stringify(doc);
      await attachText("rejected definition", text, "text/yaml");
      let error: unknown;
      try {
        parseDriverText(text, "mutated.yaml");
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      await recordParameter("problems", problems);
      expect(problems).toMatch(/capabilities\.persistance: unknown key; did you mean "persistence"\?/);
      expect(problems).toMatch(/timeoutMultiplier/);
    },
  },
  {
    meta: {
      id: "IN-04",
      area,
      title: "a volume of the driver mounts and serves a data check on every schedulable node",
      requires: { capabilities: ["persistence" as const] },
      asserts:
        "on every schedulable worker, a claim of the driver (a static PV on that node for in-tree and FlexVolume drivers, the driver's class for CSI) is mounted by a pod pinned to the node and reads back the seeded data it wrote; every node where that fails is named with what the pod showed (a driver that registers everywhere but cannot mount on one node)",
    },
    body: async (c) => {
      const failures: string[] = [];
      const checked: string[] = [];
      // Claims one at a time (a static claim binds the PV made on its node, the only one available
      // then); pods on all nodes at once, so every node that fails is named, not only the first.
      const claims: string[] = [];
      for (const [i, node] of c.workers.entries()) claims.push(await caseClaim(c, node, { name: `claim-${i}` }));
      const results = await Promise.allSettled(
        c.workers.map(async (node, i) => {
          const claim = claims[i] as string;
          try {
            await startPodOn(c, `pod-${i}`, claim, node);
          } catch (err) {
            if (!(err instanceof DriverDefect)) throw err;
            const event = await latestEvent(c.kube, c.ns, "Pod", `pod-${i}`);
            failures.push(`${node}: ${err.message}${event ? `; last event: ${event}` : ""}`);
            return;
          }
          const p = newPattern(64 * 1024);
          const wrote = (await c.kube.execInPod(c.ns, `pod-${i}`, writeScript(p, "/data/pattern"))).trim();
          const read = (await c.kube.execInPod(c.ns, `pod-${i}`, readChecksumScript("/data/pattern"))).trim();
          if (wrote !== (await expectedChecksum(p)) || read !== wrote)
            failures.push(`${node}: data check failed (wrote ${wrote}, read back ${read})`);
          else checked.push(node);
        }),
      );
      for (const r of results) if (r.status === "rejected") throw r.reason;
      await recordParameter("nodes where a volume mounted and served its data", checked.join(", ") || "none");
      expect(
        failures.length,
        `nodes where a volume of ${c.driver.metadata.name} did not mount or serve its data: ${failures.join(" | ")}`,
      ).toBe(0);
      expect(checked.length).toBe(c.workers.length);
    },
  },
];
