/**
 * SN: snapshots, restores and clones. Every check is of data: a seeded file written before the
 * snapshot must come back from it byte for byte, and data written after it must not. Each case
 * takes its snapshots with a VolumeSnapshotClass of its own (named after its namespace, deleted
 * with it).
 */
import { expect } from "vitest";
import { waitFor } from "../../harness/core/wait.ts";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { quantityToBytes } from "../../harness/drivers/quantity.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { attachText, recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim, deleteClaimAndWait } from "../../harness/k8s/claims.ts";
import { gone } from "../../harness/k8s/conditions.ts";
import { latestEvent } from "../../harness/k8s/events.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import { SNAPSHOT_API, type VolumeSnapshot } from "../../harness/k8s/snapshot-types.ts";
import { onNode } from "../../harness/case/claim.ts";
import { caseStorageClass, podReady, readPv, waitForProvisioned, waitForPvGone } from "../../harness/case/dynamic.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { claimSize } from "../../harness/case/sizes.ts";
import { podFsBytes, podWithClaim } from "../../harness/case/volumes.ts";

const area = "snapshots and clones";
const snapshots = { dynamic: true, capabilities: ["persistence" as const, "snapshotDataSource" as const] };
const MiB = 2 ** 20;

/** The case's VolumeSnapshotClass (cluster-scoped, named after the namespace, removed when the case ends). */
async function caseSnapshotClass(c: CaseContext, deletionPolicy: "Delete" | "Retain" = "Delete"): Promise<string> {
  const name = deletionPolicy === "Delete" ? c.ns : `${c.ns}-retain`;
  await c.kube.apply({
    apiVersion: SNAPSHOT_API,
    kind: "VolumeSnapshotClass",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    driver: c.driver.spec.csi?.driverName ?? "",
    deletionPolicy,
  });
  c.defer({ [Symbol.asyncDispose]: async () => void (await c.kube.deleteIfExists("VolumeSnapshotClass", name)) });
  return name;
}

async function takeSnapshot(c: CaseContext, name: string, claim: string, cls: string): Promise<VolumeSnapshot> {
  await c.kube.apply(
    {
      apiVersion: SNAPSHOT_API,
      kind: "VolumeSnapshot",
      metadata: { name },
      spec: { volumeSnapshotClassName: cls, source: { persistentVolumeClaimName: claim } },
    },
    c.ns,
  );
  c.timeline.mark(`snapshot ${name} of ${claim} requested`);
  const ready = await waitFor(
    `VolumeSnapshot ${name} readyToUse`,
    async () => {
      const s = await c.kube.read("VolumeSnapshot", name, c.ns);
      const ev = s.status?.error?.message ?? (await latestEvent(c.kube, c.ns, "VolumeSnapshot", name));
      return {
        done: s.status?.readyToUse === true,
        seen: `readyToUse ${s.status?.readyToUse ?? false}, content ${s.status?.boundVolumeSnapshotContentName ?? "none"}${ev ? `, ${ev}` : ""}`,
        value: s,
      };
    },
    { timeoutMs: driverTimeout(c.driver, "claimProvision"), intervalMs: 1000, blame: "driver" },
  );
  c.timeline.mark(`snapshot ${name} ready (restoreSize ${ready.status?.restoreSize})`);
  return ready;
}

async function deleteSnapshot(c: CaseContext, name: string): Promise<void> {
  await c.kube.delete("VolumeSnapshot", name, c.ns);
  await waitFor(`VolumeSnapshot ${name} deleted`, gone(c.kube, "VolumeSnapshot", name, c.ns), {
    timeoutMs: driverTimeout(c.driver, "pvDelete"),
    intervalMs: 1000,
    blame: "driver",
  });
}

/** A claim (on the case's class) with a pod that wrote a seeded file to it; returns the file's checksum. */
async function claimWithData(c: CaseContext, claim: string, pod: string, node?: string): Promise<string> {
  await createClaim(c.kube, c.ns, { name: claim, storageClassName: c.ns, size: claimSize(c.driver) });
  await c.createPod(podWithClaim(pod, claim, node ? onNode(node) : {}));
  await podReady(c, pod);
  await waitForProvisioned(c, claim);
  return writePattern(c, pod, `seed ${claim}`);
}

async function writePattern(c: CaseContext, pod: string, label: string): Promise<string> {
  const p = newPattern(256 * 1024);
  await recordParameter(label, p.seed);
  const sum = (await c.kube.execInPod(c.ns, pod, writeScript(p, "/data/pattern"))).trim();
  expect(sum, `checksum of what ${pod} wrote`).toBe(await expectedChecksum(p));
  return sum;
}

/** A new claim populated from `source` with a pod on it; returns the claim name once its pod runs. */
async function populated(
  c: CaseContext,
  claim: string,
  source: { kind: "VolumeSnapshot" | "PersistentVolumeClaim"; name: string },
  opts: { size?: string; node?: string } = {},
): Promise<string> {
  await createClaim(c.kube, c.ns, {
    name: claim,
    storageClassName: c.ns,
    size: opts.size ?? claimSize(c.driver),
    dataSource: source,
  });
  const pod = `pod-${claim}`;
  await c.createPod(podWithClaim(pod, claim, opts.node ? onNode(opts.node) : {}));
  await podReady(c, pod);
  await waitForProvisioned(c, claim);
  c.timeline.mark(`${claim} (from ${source.kind} ${source.name}) mounted by ${pod}`);
  return pod;
}

const checksum = async (c: CaseContext, pod: string) =>
  (await c.kube.execInPod(c.ns, pod, readChecksumScript("/data/pattern"))).trim();

export const SNAPSHOT_CASES: Case[] = [
  {
    meta: {
      id: "SN-01",
      area,
      title: "a VolumeSnapshot becomes ready with a content object; its deletion policy decides the content's fate",
      requires: snapshots,
      asserts:
        "a snapshot of a claim becomes readyToUse with a restoreSize no smaller than the claim, bound to a VolumeSnapshotContent with a snapshot handle and the driver's name; deleting it deletes the content under a Delete class and keeps it under a Retain class",
    },
    body: async (c) => {
      await caseStorageClass(c);
      await claimWithData(c, "claim", "app");
      for (const policy of ["Delete", "Retain"] as const) {
        const cls = await caseSnapshotClass(c, policy);
        const name = `snap-${policy.toLowerCase()}`;
        const snap = await takeSnapshot(c, name, "claim", cls);
        const contentName = snap.status?.boundVolumeSnapshotContentName ?? "";
        expect(contentName, "bound VolumeSnapshotContent").not.toBe("");
        const content = await c.kube.read("VolumeSnapshotContent", contentName);
        await attachText(`VolumeSnapshotContent (${policy})`, JSON.stringify(content, null, 2), "application/json");
        expect(content.spec.driver).toBe(c.driver.spec.csi?.driverName);
        expect(content.spec.deletionPolicy).toBe(policy);
        expect(content.status?.snapshotHandle, "snapshot handle").toBeTruthy();
        expect(quantityToBytes(snap.status?.restoreSize ?? "0") ?? 0, "restoreSize").toBeGreaterThanOrEqual(
          quantityToBytes(claimSize(c.driver)) ?? 0,
        );
        await deleteSnapshot(c, name);
        if (policy === "Delete") {
          await waitFor(
            `VolumeSnapshotContent ${contentName} deleted with its snapshot`,
            gone(c.kube, "VolumeSnapshotContent", contentName),
            { timeoutMs: driverTimeout(c.driver, "pvDelete"), intervalMs: 1000, blame: "driver" },
          );
          continue;
        }
        const kept = await c.kube.readIfExists("VolumeSnapshotContent", contentName);
        expect(kept?.metadata?.name, "content kept under Retain").toBe(contentName);
        // Not volcert's to keep: delete the retained content and the driver's snapshot with it.
        await c.kube.mergePatch("VolumeSnapshotContent", contentName, undefined, {
          spec: { deletionPolicy: "Delete" },
        });
        await c.kube.delete("VolumeSnapshotContent", contentName);
        await waitFor(
          `VolumeSnapshotContent ${contentName} deleted`,
          gone(c.kube, "VolumeSnapshotContent", contentName),
          {
            timeoutMs: driverTimeout(c.driver, "pvDelete"),
            intervalMs: 1000,
            blame: "driver",
          },
        );
      }
    },
  },
  {
    meta: {
      id: "SN-02",
      area,
      title: "a restore has the data as it was when the snapshot was taken",
      requires: snapshots,
      asserts:
        "seeded data A is written and snapshotted, then overwritten in the source with B; a claim restored from the snapshot reads A byte for byte, the source still reads B",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const a = await claimWithData(c, "claim", "app");
      await takeSnapshot(c, "snap", "claim", await caseSnapshotClass(c));
      const b = await writePattern(c, "app", "seed after the snapshot");
      const restored = await populated(c, "restored", { kind: "VolumeSnapshot", name: "snap" });
      expect(await checksum(c, restored), "the restored claim has the data at snapshot time").toBe(a);
      expect(await checksum(c, "app"), "the source keeps its later data").toBe(b);
    },
  },
  {
    meta: {
      id: "SN-03",
      area,
      title: "a restore into a larger claim has a filesystem of the larger size",
      requires: { ...snapshots, capabilities: [...snapshots.capabilities, "controllerExpansion" as const] },
      asserts:
        "a claim twice the snapshot's restoreSize is restored from it: the pod's filesystem is larger than the source's by at least 90 % of the difference in size, and the data reads back",
    },
    body: async (c) => {
      await caseStorageClass(c, { allowVolumeExpansion: true });
      const a = await claimWithData(c, "claim", "app");
      const sourceFs = await podFsBytes(c, "app");
      const snap = await takeSnapshot(c, "snap", "claim", await caseSnapshotClass(c));
      const restoreSize = quantityToBytes(snap.status?.restoreSize ?? claimSize(c.driver)) ?? 0;
      const bigger = 2 * restoreSize;
      const size = `${Math.floor(bigger / MiB)}Mi`;
      await recordParameter("restored size", size);
      const pod = await populated(c, "restored", { kind: "VolumeSnapshot", name: "snap" }, { size });
      expect(
        await podFsBytes(c, pod),
        `filesystem size of the restored claim (bytes; requested ${size}; the source's filesystem ${sourceFs})`,
      ).toBeGreaterThanOrEqual(sourceFs + 0.9 * (bigger - restoreSize));
      expect(await checksum(c, pod)).toBe(a);
    },
  },
  {
    meta: {
      id: "SN-04",
      area,
      title: "a clone has a copy of its source's data, and the two are independent",
      requires: { dynamic: true, capabilities: ["persistence" as const, "pvcDataSource" as const] },
      asserts:
        "a claim with dataSource of another claim reads the source's seeded data; a later write to either is not seen by the other",
    },
    body: async (c) => {
      await caseStorageClass(c);
      const a = await claimWithData(c, "claim", "app");
      const clone = await populated(c, "clone", { kind: "PersistentVolumeClaim", name: "claim" });
      expect(await checksum(c, clone), "the clone has the source's data").toBe(a);
      const inSource = await writePattern(c, "app", "seed written to the source after cloning");
      expect(await checksum(c, clone), "the clone does not see the source's later write").toBe(a);
      const inClone = await writePattern(c, clone, "seed written to the clone");
      expect(await checksum(c, "app"), "the source does not see the clone's write").toBe(inSource);
      expect(inClone).not.toBe(inSource);
    },
  },
  {
    meta: {
      id: "SN-05",
      area,
      title: "a volume and its restored copy are mounted on one node at the same time",
      requires: snapshots,
      asserts:
        "a claim and a claim restored from its snapshot are used by two pods on the same node at once (with xfs when the driver supports it, whose copies share a filesystem UUID): both mount, each reads its own data",
    },
    body: async (c) => {
      const xfs = c.driver.spec.supportedFsTypes.includes("xfs");
      const base = c.driver.spec.storageClasses[0];
      await caseStorageClass(
        c,
        xfs ? { parameters: { ...(base?.parameters ?? {}), "csi.storage.k8s.io/fstype": "xfs" } } : {},
      );
      await recordParameter("fsType", xfs ? "xfs" : "the class's default");
      const node = c.workers[0] as string;
      const a = await claimWithData(c, "claim", "app", node);
      await takeSnapshot(c, "snap", "claim", await caseSnapshotClass(c));
      const restored = await populated(c, "restored", { kind: "VolumeSnapshot", name: "snap" }, { node });
      expect(await checksum(c, restored)).toBe(a);
      const b = await writePattern(c, "app", "seed written to the source while both are mounted");
      expect(await checksum(c, restored), "the restored copy is a separate volume").toBe(a);
      expect(await checksum(c, "app")).toBe(b);
    },
  },
  {
    meta: {
      id: "SN-06",
      area,
      title: "a snapshot outlives its source claim: restoring still works after the source is deleted",
      requires: snapshots,
      asserts:
        "after the source claim and its PV are deleted, a claim restored from the snapshot reads the seeded data taken before",
    },
    body: async (c) => {
      await caseStorageClass(c, { reclaimPolicy: "Delete" });
      const a = await claimWithData(c, "claim", "app");
      await takeSnapshot(c, "snap", "claim", await caseSnapshotClass(c));
      const pv = (await readPv(c, (await c.kube.read("PersistentVolumeClaim", "claim", c.ns)).spec?.volumeName ?? ""))
        .metadata?.name as string;
      await deletePodAndWait(c.kube, c.ns, "app", driverTimeout(c.driver, "podDelete"));
      await deleteClaimAndWait(c.kube, c.ns, "claim", driverTimeout(c.driver, "pvDelete"));
      await waitForPvGone(c, pv);
      c.timeline.mark(`source claim and PV ${pv} deleted`);
      const restored = await populated(c, "restored", { kind: "VolumeSnapshot", name: "snap" });
      expect(await checksum(c, restored)).toBe(a);
    },
  },
];
