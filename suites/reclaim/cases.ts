/**
 * RP: reclaim policies. Dynamic cases (Delete, Retain, PV deleted first) check the backing data on
 * the nodes (driver volumeDataPaths), not only the API objects; static cases (Retain, Recycle) use
 * volumes an administrator creates.
 */
import { expect } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { holdsFor, waitFor } from "../../harness/core/wait.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import { isNotFound } from "../../harness/k8s/api-errors.ts";
import {
  createClaim,
  deleteClaimAndWait,
  readClaim,
  waitForClaimPhase,
  waitForPvPhase,
} from "../../harness/k8s/claims.ts";
import { pvPhase } from "../../harness/k8s/conditions.ts";
import { latestEvent } from "../../harness/k8s/events.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import { presentPaths } from "../../harness/nodes/paths.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import {
  claimWithPod,
  caseStorageClass,
  dataPaths,
  podReady,
  waitForDataGone,
  waitForProvisioned,
  waitForPvGone,
} from "../../harness/case/dynamic.ts";
import { podWithClaim, staticVolume } from "../../harness/case/volumes.ts";
import { HOLD } from "../../harness/case/limits.ts";
import { claimSize } from "../../harness/case/sizes.ts";

const area = "reclaim policy";
const dynamic = { dynamic: true, dataPaths: true, capabilities: ["persistence" as const] };
const staticOnly = { types: ["in-tree" as const, "flexvolume" as const], capabilities: ["persistence" as const] };

/** Provisions a volume with a pod, writes a seeded pattern, deletes the pod; returns the PV and the pattern. */
async function provisionWithData(c: CaseContext) {
  const { claim, pod } = await claimWithPod(c);
  const { pv, claim: bound } = await waitForProvisioned(c, claim);
  await podReady(c, pod);
  const p = newPattern(256 * 1024);
  await recordParameter("seed", p.seed);
  expect((await c.kube.execInPod(c.ns, pod, writeScript(p, "/data/pattern"))).trim()).toBe(await expectedChecksum(p));
  const node = (await c.kube.core.readNamespacedPod({ namespace: c.ns, name: pod })).spec?.nodeName ?? "";
  await deletePodAndWait(c.kube, c.ns, pod, driverTimeout(c.driver, "podDelete"));
  return { claim, pv, pvName: bound.volumeName, pattern: p, node, paths: dataPaths(c, pv) };
}

async function deleteClaim(c: CaseContext, claim: string): Promise<void> {
  await deleteClaimAndWait(c.kube, c.ns, claim, driverTimeout(c.driver, "pvDelete"));
}

const clearClaimRef = (c: CaseContext, pv: string) =>
  c.kube.jsonPatch("PersistentVolume", pv, undefined, [{ op: "remove", path: "/spec/claimRef" }]);

const reclaimByDelete = (c: CaseContext, pv: string) =>
  c.kube.mergePatch("PersistentVolume", pv, undefined, { spec: { persistentVolumeReclaimPolicy: "Delete" } });

/** Observes for `ms` that a claim stays Pending (a named, bounded observation, not a sleep). */
async function staysPending(c: CaseContext, claim: string, ms: number): Promise<void> {
  await holdsFor(
    `claim ${c.ns}/${claim} stays Pending`,
    async () => {
      const s = await readClaim(c.kube, c.ns, claim);
      return {
        holds: s.phase === "Pending",
        seen: `phase ${s.phase}${s.volumeName ? ` (volume ${s.volumeName})` : ""}`,
      };
    },
    { durationMs: ms, blame: "driver" },
  );
}

export const RECLAIM_CASES: Case[] = [
  {
    meta: {
      id: "RP-01",
      area,
      title: "Delete (dynamic): deleting the claim removes the PV and the data on the node",
      requires: dynamic,
      asserts:
        "after the claim is deleted, the PV disappears and the volume's data path is gone from every node (checked in the node, not only in the API)",
    },
    body: async (c) => {
      await caseStorageClass(c, { reclaimPolicy: "Delete" });
      const v = await provisionWithData(c);
      expect(await presentPaths(c.nodes, v.paths), "volume data exists on the node before deletion").not.toEqual([]);
      await deleteClaim(c, v.claim);
      await waitForPvGone(c, v.pvName);
      await waitForDataGone(c, v.paths);
    },
  },
  {
    meta: {
      id: "RP-02",
      area,
      title: "Retain (dynamic): PV goes Released with the data; clearing claimRef makes it readable again",
      requires: dynamic,
      asserts:
        "after the claim is deleted the PV is Released and its data is still on the node; once claimRef is cleared a new claim binds it and reads the old bytes; switching the PV to Delete then removes PV and data",
    },
    body: async (c) => {
      await caseStorageClass(c, { reclaimPolicy: "Retain" });
      const v = await provisionWithData(c);
      const pv = v.pvName;
      // However the case ends, hand the volume back to the driver for deletion.
      c.defer({
        [Symbol.asyncDispose]: async () => {
          await reclaimByDelete(c, pv).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
          await c.kube.deleteIfExists("PersistentVolume", pv);
        },
      });
      await deleteClaim(c, v.claim);
      await waitForPvPhase(c.kube, pv, "Released", driverTimeout(c.driver, "claimBound"));
      expect(await presentPaths(c.nodes, v.paths), "a Retain volume's data must survive its claim").not.toEqual([]);
      await clearClaimRef(c, pv);
      await waitForPvPhase(c.kube, pv, "Available", driverTimeout(c.driver, "claimBound"));
      await createClaim(c.kube, c.ns, {
        name: "again",
        storageClassName: c.ns,
        size: claimSize(c.driver),
        volumeName: pv,
      });
      await waitForClaimPhase(c.kube, c.ns, "again", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("reader", "again", { nodeName: v.node }));
      await podReady(c, "reader");
      expect((await c.kube.execInPod(c.ns, "reader", readChecksumScript("/data/pattern"))).trim()).toBe(
        await expectedChecksum(v.pattern),
      );
      await deletePodAndWait(c.kube, c.ns, "reader", driverTimeout(c.driver, "podDelete"));
      await reclaimByDelete(c, pv);
      await deleteClaim(c, "again");
      await waitForPvGone(c, pv);
      await waitForDataGone(c, v.paths);
    },
  },
  {
    meta: {
      id: "RP-03",
      area,
      title: "Retain (static): a Released PV is not re-bound until claimRef is cleared",
      requires: staticOnly,
      asserts:
        "after its claim is deleted the PV is Released; a new matching claim stays Pending for 15 s; once an operator clears claimRef the PV becomes Available and the new claim binds to it",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      const vol = await staticVolume(c, "pv", { node, reclaimPolicy: "Retain" });
      await createClaim(c.kube, c.ns, { name: "first", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "first", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await deleteClaim(c, "first");
      await waitForPvPhase(c.kube, vol.pvName, "Released", driverTimeout(c.driver, "claimBound"));
      await createClaim(c.kube, c.ns, { name: "second", storageClassName: c.ns, size: claimSize(c.driver) });
      await staysPending(c, "second", holdWindow(c.driver, HOLD.pendingClaim));
      await clearClaimRef(c, vol.pvName);
      const bound = await waitForClaimPhase(c.kube, c.ns, "second", "Bound", {
        timeoutMs: driverTimeout(c.driver, "claimBound"),
      });
      expect(bound.volumeName).toBe(vol.pvName);
    },
  },
  {
    meta: {
      id: "RP-04",
      area,
      title: "Recycle (in-tree hostPath, deprecated upstream): the PV returns to Available, empty",
      // Upstream: "HostPath recycling only works in single node clusters" (pkg/volume/hostpath): the
      // recycler pod is not pinned to the PV's node, so with several schedulable nodes it cannot be right.
      requires: { inTreePlugins: ["hostPath"], capabilities: ["persistence" as const], maxWorkers: 1 },
      asserts:
        "after the claim of a Recycle hostPath PV is deleted, kube-controller-manager's recycler scrubs it: the PV becomes Available and its directory on the node is empty; where that cannot be correct (several schedulable nodes) the case is reported unsupported with the upstream reason",
    },
    body: async (c) => {
      const nodes = (await c.kube.core.listNode()).items.filter(
        (n) => !n.spec?.taints?.some((t) => t.effect === "NoSchedule"),
      );
      const node = nodes[0]?.metadata?.name as string;
      const vol = await staticVolume(c, "pv", { node, reclaimPolicy: "Recycle" });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("writer", "claim", { nodeName: node }));
      await podReady(c, "writer");
      await c.kube.execInPod(c.ns, "writer", [
        "sh",
        "-ec",
        "echo old > /data/file && mkdir -p /data/dir && echo x > /data/dir/nested",
      ]);
      await deletePodAndWait(c.kube, c.ns, "writer", driverTimeout(c.driver, "podDelete"));
      await deleteClaim(c, "claim");
      const phase = await waitFor(
        `PV ${vol.pvName} recycled (Available) or failed`,
        pvPhase(c.kube, vol.pvName, "Available", "Failed"),
        { timeoutMs: driverTimeout(c.driver, "pvDelete"), intervalMs: 2000, blame: "driver" },
      );
      expect(
        phase,
        `recycling outcome; last event: ${await latestEvent(c.kube, "default", "PersistentVolume", vol.pvName)}`,
      ).toBe("Available");
      const left = await c.nodes.exec(node, ["ls", "-A", vol.path]);
      expect(left.stdout.trim(), `contents of ${vol.path} on ${node} after recycling`).toBe("");
    },
  },
  {
    meta: {
      id: "RP-05",
      area,
      title: "deleting the PV before the claim still deletes the data (HonorPVReclaimPolicy)",
      requires: dynamic,
      asserts:
        "a bound PV deleted first stays (finalizers) while its claim exists; once the claim is deleted, the PV goes away and the driver deletes the data on the node",
    },
    body: async (c) => {
      await caseStorageClass(c, { reclaimPolicy: "Delete" });
      const v = await provisionWithData(c);
      const pv = v.pvName;
      await c.kube.delete("PersistentVolume", pv);
      const still = (await c.kube.read("PersistentVolume", pv)).metadata;
      await recordParameter(
        "PV after delete while bound",
        `deletionTimestamp ${still?.deletionTimestamp?.toISOString() ?? "none"}, finalizers ${JSON.stringify(still?.finalizers ?? [])}`,
      );
      expect(still?.deletionTimestamp, "a bound PV deleted first is marked for deletion").toBeTruthy();
      expect(still?.finalizers ?? [], "a bound PV is kept by its finalizers").not.toEqual([]);
      await deleteClaim(c, v.claim);
      await waitForPvGone(c, pv);
      await waitForDataGone(c, v.paths);
    },
  },
];
