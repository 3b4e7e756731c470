/**
 * DP: dynamic provisioning through the driver's StorageClass. Each case provisions on a class of
 * its own (a clone of the driver's first class named after the case namespace), so no case sees
 * another's volumes, and the leak check knows where each volume's data lives on the nodes.
 */
import { expect } from "vitest";
import {
  EXEC_PROBE,
  blockWriteScript,
  expectedChecksum,
  newPattern,
  readChecksumScript,
  writeScript,
} from "../../harness/data/pattern.ts";
import { attachText, recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim, deleteClaimAndWait, readClaim } from "../../harness/k8s/claims.ts";
import { gone } from "../../harness/k8s/conditions.ts";
import type { V1PersistentVolume } from "../../harness/k8s/kube.ts";
import { describeNodeAffinity, nodesAdmitted } from "../../harness/k8s/node-affinity.ts";
import { presentPaths } from "../../harness/nodes/paths.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import { waitFor } from "../../harness/core/wait.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import {
  claimWithPod,
  caseStorageClass,
  blockClaim,
  dataPaths,
  podReady,
  quantityBytes,
  readPv,
  waitForDataGone,
  waitForProvisioned,
  waitForPvGone,
} from "../../harness/case/dynamic.ts";
import { blockPodWithClaim, podWithClaim, workloadImage } from "../../harness/case/volumes.ts";
import { measureLatency } from "./latency.ts";
import { claimSize } from "../../harness/case/sizes.ts";

const area = "dynamic provisioning";
const requires = { dynamic: true, capabilities: ["persistence" as const] };

const mountOf = async (c: CaseContext, pod: string, field: "FSTYPE" | "OPTIONS") =>
  (await c.kube.execInPod(c.ns, pod, ["findmnt", "-n", "-o", field, "--target", "/data"])).trim();

async function podNode(c: CaseContext, pod: string): Promise<string> {
  return (await c.kube.core.readNamespacedPod({ namespace: c.ns, name: pod })).spec?.nodeName ?? "";
}

/** Where the second pod of a persistence check goes: the same node for node-local drivers, another node otherwise. */
function secondNode(c: CaseContext, first: string): string {
  if (c.driver.spec.capabilities.singleNodeVolume) return first;
  return c.workers.find((w) => w !== first) ?? first;
}

/** Claims DP-10 provisions at once (enough for a p95 of a handful, cheap enough for every run). */
const DP10_CLAIMS = 6;

export const PROVISIONING_CASES: Case[] = [
  {
    meta: {
      id: "DP-01",
      area,
      title: "a claim on the driver's class binds to a correctly shaped PV",
      requires,
      asserts:
        "the claim binds; the PV's capacity ≥ the request, its access modes ⊆ the claim's, reclaimPolicy and mountOptions are the class's, claimRef names the claim (namespace, name, uid), and a pod starts with it",
    },
    body: async (c) => {
      const sc = await caseStorageClass(c);
      const { claim, pod } = await claimWithPod(c, { size: "100Mi" });
      const { pv } = await waitForProvisioned(c, claim);
      await attachText("provisioned PV", JSON.stringify(pv, null, 2), "application/json");
      const pvc = await c.kube.core.readNamespacedPersistentVolumeClaim({ namespace: c.ns, name: claim });
      expect(quantityBytes(pv.spec?.capacity?.storage ?? "0")).toBeGreaterThanOrEqual(quantityBytes("100Mi"));
      for (const m of pv.spec?.accessModes ?? []) expect(pvc.spec?.accessModes).toContain(m);
      expect(pv.spec?.persistentVolumeReclaimPolicy).toBe(sc.reclaimPolicy);
      expect(pv.spec?.mountOptions ?? []).toEqual(sc.mountOptions);
      expect(pv.spec?.storageClassName).toBe(sc.name);
      expect(pv.spec?.claimRef).toMatchObject({ namespace: c.ns, name: claim, uid: pvc.metadata?.uid });
      if (c.driver.spec.csi) expect(pv.spec?.csi?.driver).toBe(c.driver.spec.csi.driverName);
      await podReady(c, pod);
    },
  },
  {
    meta: {
      id: "DP-02",
      area,
      title: "data written through a new volume is read back by a second pod",
      requires,
      asserts:
        "seeded data written by a first pod reads back byte for byte in a second pod started after the first is deleted (same node for node-local drivers, another node otherwise)",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const { claim, pod } = await claimWithPod(c);
      await waitForProvisioned(c, claim);
      await podReady(c, pod);
      const p = newPattern();
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, pod, writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      const node = secondNode(c, await podNode(c, pod));
      await deletePodAndWait(c.kube, c.ns, pod, driverTimeout(c.driver, "podDelete"));
      await c.createPod(podWithClaim("reader", claim, { nodeName: node }));
      await podReady(c, "reader");
      expect((await c.kube.execInPod(c.ns, "reader", readChecksumScript("/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
    },
  },
  {
    meta: {
      id: "DP-03",
      area,
      title: "a script written into the volume can be executed",
      requires: { ...requires, capabilities: ["persistence" as const, "exec" as const] },
      asserts: "a shell script written to the volume and made executable runs and prints its marker",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const { claim, pod } = await claimWithPod(c);
      await waitForProvisioned(c, claim);
      await podReady(c, pod);
      await c.kube.execInPod(c.ns, pod, [...EXEC_PROBE.write]);
      expect((await c.kube.execInPod(c.ns, pod, [EXEC_PROBE.path])).trim()).toBe(EXEC_PROBE.marker);
    },
  },
  {
    meta: {
      id: "DP-04",
      area,
      title: "each supported fsType is what the pod gets mounted",
      requires: { ...requires, fsTypes: true },
      asserts:
        "for every fsType in supportedFsTypes, a class with csi.storage.k8s.io/fstype gives a pod a mount of exactly that type",
    },
    body: async (c) => {
      const types = c.driver.spec.supportedFsTypes.filter(Boolean);
      const base = c.driver.spec.storageClasses[0];
      for (const fs of types) {
        const sc = await caseStorageClass(c, { parameters: { ...base?.parameters, "csi.storage.k8s.io/fstype": fs } });
        const claim = `claim-${fs}`;
        const { pod } = await claimWithPod(c, { claim });
        await waitForProvisioned(c, claim);
        await podReady(c, pod);
        expect(await mountOf(c, pod, "FSTYPE"), `fsType of the mount for class ${sc.name} (${fs})`).toBe(fs);
        await deletePodAndWait(c.kube, c.ns, pod, driverTimeout(c.driver, "podDelete"));
        await deleteClaimAndWait(c.kube, c.ns, claim, driverTimeout(c.driver, "pvDelete"));
        await c.kube.deleteIfExists("StorageClass", sc.name);
      }
    },
  },
  {
    meta: {
      id: "DP-05",
      area,
      title: "the class's mount options appear in the pod's mount table",
      requires: { ...requires, mountOptions: true },
      asserts:
        "every option of supportedMountOptions, set as the class's mountOptions, is in the options of the pod's /data mount",
    },
    body: async (c) => {
      const options = c.driver.spec.supportedMountOptions;
      await caseStorageClass(c, { mountOptions: options });
      const { claim, pod } = await claimWithPod(c);
      await waitForProvisioned(c, claim);
      await podReady(c, pod);
      const seen = (await mountOf(c, pod, "OPTIONS")).split(",");
      await recordParameter("mount options seen", seen.join(","));
      for (const o of options) expect(seen, `mount option ${o}`).toContain(o);
    },
  },
  {
    meta: {
      id: "DP-06",
      area,
      title: "sizes round up, never down; the smallest supported size works",
      requires,
      asserts:
        "claims for an odd size (1000001 bytes, 3333Ki) and for sizeRange.min bind to PVs of at least that size, and the claim's status capacity is at least the request",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const sizes = ["1000001", "3333Ki", c.driver.spec.sizeRange.min];
      await recordParameter("sizes", sizes.join(", "));
      for (const [i, size] of sizes.entries())
        await createClaim(c.kube, c.ns, { name: `claim-${i}`, storageClassName: c.ns, size });
      await c.createPod({
        ...podWithClaim("user", "claim-0"),
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "workload",
              image: workloadImage(),
              imagePullPolicy: "IfNotPresent",
              command: ["sleep", "infinity"],
              volumeMounts: sizes.map((_, i) => ({ name: `v${i}`, mountPath: `/data${i}` })),
            },
          ],
          volumes: sizes.map((_, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: `claim-${i}` } })),
        },
      });
      for (const [i, size] of sizes.entries()) {
        const { claim, pv } = await waitForProvisioned(c, `claim-${i}`);
        expect(
          quantityBytes(pv.spec?.capacity?.storage ?? "0"),
          `PV capacity for a ${size} claim`,
        ).toBeGreaterThanOrEqual(quantityBytes(size));
        expect(
          quantityBytes(claim.capacity || "0"),
          `claim status capacity for a ${size} claim`,
        ).toBeGreaterThanOrEqual(quantityBytes(size));
      }
      await podReady(c, "user");
    },
  },
  {
    meta: {
      id: "DP-07",
      area,
      title: "deleting a claim while it is provisioned leaves no orphan PV or data",
      requires: { ...requires, dataPaths: true },
      asserts:
        "a claim deleted right after its pod is created (mid-provisioning) leaves no PV bound to it and no volume data on any node",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const { claim, pod } = await claimWithPod(c);
      await c.kube.delete("PersistentVolumeClaim", claim, c.ns);
      await c.kube.delete("Pod", pod, c.ns);
      // Watch the PVs that appear for the claim until none is left; remember each one's data paths.
      const seenPvs = new Map<string, V1PersistentVolume>();
      await waitFor(
        `no PV left for the deleted claim ${c.ns}/${claim}`,
        async () => {
          const mine = (await c.kube.list("PersistentVolume")).filter((pv) => pv.spec?.claimRef?.namespace === c.ns);
          for (const pv of mine) seenPvs.set(pv.metadata?.name ?? "", pv);
          const claimLeft = (await c.kube.readIfExists("PersistentVolumeClaim", claim, c.ns)) !== undefined;
          return {
            done: mine.length === 0 && !claimLeft,
            seen: `${claimLeft ? "claim still there; " : ""}PVs: ${mine.map((p) => `${p.metadata?.name} (${p.status?.phase})`).join(", ") || "none"}`,
          };
        },
        { timeoutMs: driverTimeout(c.driver, "pvDelete"), intervalMs: 500, blame: "driver" },
      );
      await recordParameter(
        "PVs that appeared",
        [...seenPvs.keys()].join(", ") || "none (deleted before provisioning started)",
      );
      const paths = [...seenPvs.values()].flatMap((pv) => dataPaths(c, pv));
      c.trackVolumeData(paths);
      if (paths.length) await waitForDataGone(c, paths);
    },
  },
  {
    meta: {
      id: "DP-08",
      area,
      title: "a Block-mode claim gives the pod a raw device",
      requires: { ...requires, capabilities: ["persistence" as const, "block" as const] },
      asserts:
        "the pod sees a block device at the volumeDevices path, and seeded data written with direct I/O reads back identically",
    },
    body: async (c) => {
      await blockClaim(c);
      await c.createPod(blockPodWithClaim("block", "claim"));
      await waitForProvisioned(c, "claim");
      await podReady(c, "block");
      expect((await c.kube.execInPod(c.ns, "block", ["sh", "-c", "test -b /dev/xvda && echo block"])).trim()).toBe(
        "block",
      );
      const p = newPattern(1024 * 1024);
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, "block", blockWriteScript(p, "/dev/xvda"))).trim()).toBe(
        await expectedChecksum(p),
      );
    },
  },
  {
    meta: {
      id: "DP-09",
      area,
      title: "a generic ephemeral volume is created with its pod and deleted with it",
      requires,
      asserts:
        "the pod's ephemeral claim <pod>-<volume> appears owned by the pod and binds; data can be written; after the pod is deleted the claim, the PV and the volume data are gone",
    },
    body: async (c) => {
      await caseStorageClass(c);
      await c.createPod({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "eph" },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "workload",
              image: workloadImage(),
              imagePullPolicy: "IfNotPresent",
              command: ["sleep", "infinity"],
              volumeMounts: [{ name: "scratch", mountPath: "/data" }],
            },
          ],
          volumes: [
            {
              name: "scratch",
              ephemeral: {
                volumeClaimTemplate: {
                  spec: {
                    storageClassName: c.ns,
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: claimSize(c.driver) } },
                  },
                },
              },
            },
          ],
        },
      });
      const { pv } = await waitForProvisioned(c, "eph-scratch");
      const pvc = await c.kube.core.readNamespacedPersistentVolumeClaim({ namespace: c.ns, name: "eph-scratch" });
      expect(pvc.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).toEqual(["Pod/eph"]);
      await podReady(c, "eph");
      const p = newPattern(64 * 1024);
      expect((await c.kube.execInPod(c.ns, "eph", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      await deletePodAndWait(c.kube, c.ns, "eph", driverTimeout(c.driver, "podDelete"));
      await waitFor(
        "ephemeral claim eph-scratch garbage-collected with its pod",
        gone(c.kube, "PersistentVolumeClaim", "eph-scratch", c.ns),
        { timeoutMs: driverTimeout(c.driver, "pvDelete"), intervalMs: 1000, blame: "driver" },
      );
      const paths = dataPaths(c, pv);
      await waitForPvGone(c, pv.metadata?.name ?? "");
      if (paths.length) await waitForDataGone(c, paths);
    },
  },
  {
    meta: {
      id: "DP-10",
      area,
      title: "provisioning and pod start latency (p50/p95)",
      requires,
      asserts:
        "N claims with a pod each (created together) all bind and all pods become Ready; claim create → Bound, pod create → Ready and (for a driver that attaches) pod create → volume attached are measured per object from watch events and reported as p50/p95 (figures, not a pass threshold)",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const n = DP10_CLAIMS;
      const figures = await measureLatency(c, n);
      await attachText("latency.json", JSON.stringify(figures, null, 2), "application/json");
      const relisted = figures.relists ? `; ${figures.relists} watch drop(s) answered by a re-list` : "";
      await recordParameter("latency method", `${figures.method}${relisted}`);
      await recordParameter("claim → Bound p50/p95 (ms)", `${figures.bound.p50} / ${figures.bound.p95}`);
      await recordParameter("pod → Ready p50/p95 (ms)", `${figures.ready.p50} / ${figures.ready.p95}`);
      const own = figures.readyByOwnTimestamps;
      await recordParameter(
        "pod → Ready p50/p95 by the pods' own timestamps (ms, 1 s resolution)",
        `${own.p50} / ${own.p95}`,
      );
      if ("notApplicable" in figures.attached) {
        await recordParameter(
          "pod → volume attached p50/p95 (ms)",
          `not applicable: ${figures.attached.notApplicable}`,
        );
        await c.notApplicable("pod → volume attached latency", figures.attached.notApplicable);
      } else {
        await recordParameter(
          "pod → volume attached p50/p95 (ms)",
          `${figures.attached.p50} / ${figures.attached.p95}`,
        );
        expect(figures.attached.samples).toHaveLength(n);
      }
      expect(figures.bound.samples).toHaveLength(n);
      expect(figures.ready.samples).toHaveLength(n);
      for (const i of Array.from({ length: n }, (_, k) => k)) await waitForProvisioned(c, `claim-${i}`);
      expect((await readClaim(c.kube, c.ns, "claim-0")).phase).toBe("Bound");
      const pv = await readPv(c, (await readClaim(c.kube, c.ns, "claim-0")).volumeName);
      expect(pv.status?.phase).toBe("Bound");
    },
  },
  {
    meta: {
      id: "DP-11",
      area,
      title: "topology promise: a node-local volume's PV admits exactly the node that holds its data",
      requires: {
        ...requires,
        capabilities: ["persistence" as const, "singleNodeVolume" as const, "topology" as const],
      },
      asserts:
        "for a driver declaring singleNodeVolume and topology, the PV provisioned for a pod on a chosen worker has a node affinity that admits that node and no other (evaluated against every node's labels as the scheduler does), and the volume's data (volumeDataPaths, when declared) is on that node only: a pod re-created anywhere is scheduled where its data is",
    },
    body: async (c) => {
      await caseStorageClass(c);
      // The second worker: a driver that ignores the chosen node is not hidden by a first-choice default.
      const node = (c.workers[1] ?? c.workers[0]) as string;
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await c.createPod(podWithClaim("app", "claim", { nodeSelector: { "kubernetes.io/hostname": node } }));
      const { pv } = await waitForProvisioned(c, "claim");
      await podReady(c, "app");
      const p = newPattern(64 * 1024);
      await c.kube.execInPod(c.ns, "app", writeScript(p, "/data/pattern"));
      const name = pv.metadata?.name ?? "";
      const affinity = describeNodeAffinity(pv);
      const admitted = nodesAdmitted(pv, (await c.kube.core.listNode()).items);
      await recordParameter(`node affinity of ${name}`, affinity);
      await recordParameter("nodes it admits", admitted.join(", ") || "none");
      const paths = dataPaths(c, pv);
      if (paths.length) {
        const holding = [...new Set((await presentPaths(c.nodes, paths)).map((w) => w.split(": ")[0]))];
        await recordParameter("nodes holding the data", holding.join(", ") || "none");
        expect(holding, `nodes holding ${paths.join(", ")}`).toEqual([node]);
      }
      expect(
        admitted,
        `PV ${name}: its node affinity (${affinity}) admits ${admitted.join(", ") || "no node"}, but its data is on ${node} only`,
      ).toEqual([node]);
    },
  },
];
