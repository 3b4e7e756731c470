/**
 * AT: the attach/detach flow of drivers whose volumes go through ControllerPublish and a
 * VolumeAttachment (csi.expect.attachRequired). What is checked is what the objects and the node
 * show: a VolumeAttachment's status, the node's mount table, the pods' events.
 */
import { expect } from "vitest";
import { holdsFor, waitFor } from "../../harness/core/wait.ts";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import { attachText, recordParameter } from "../../harness/evidence/allure.ts";
import { readClaim } from "../../harness/k8s/claims.ts";
import { gone } from "../../harness/k8s/conditions.ts";
import { attachmentsOf, type VolumeAttachment } from "../../harness/k8s/attachments.ts";
import { deletePodAndWait, waitForPodReady } from "../../harness/k8s/pods.ts";
import { csiStagingPath } from "../../harness/nodes/leftovers.ts";
import { readMounts } from "../../harness/nodes/mountinfo.ts";
import { caseClaim, onNode, startPodOn } from "../../harness/case/claim.ts";
import { HOLD } from "../../harness/case/limits.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { podWithClaim } from "../../harness/case/volumes.ts";

const area = "attach and detach";
const requires = { dynamic: true, attach: true, capabilities: ["persistence" as const] };

const describeAttachment = (v: VolumeAttachment) =>
  `${v.metadata?.name} → ${v.spec.nodeName}: attached ${v.status?.attached ?? false}${v.status?.attachError ? `, attachError "${v.status.attachError.message}"` : ""}${v.metadata?.deletionTimestamp ? " (deleting)" : ""}`;

/** The time the attacher set `attached: true` (its status update's managedFields entry; second precision). */
function attachedAt(v: VolumeAttachment): Date | undefined {
  const entry = (v.metadata?.managedFields ?? [])
    .filter((f) => f.subresource === "status" && f.time)
    .sort((a, b) => String(b.time).localeCompare(String(a.time)))[0];
  return entry?.time ? new Date(entry.time) : undefined;
}

/** Mounts on `node` of the volume: its CSI staging mount, or any mount whose path or source names the PV or its handle. */
async function volumeMounts(c: CaseContext, node: string, pv: string, handle: string): Promise<string[]> {
  const staging = csiStagingPath(c.driver.spec.csi?.driverName ?? "", handle);
  return (await readMounts(c.nodes, node))
    .filter(
      (m) =>
        m.mountPoint === staging || [m.mountPoint, m.source, m.root].some((s) => s.includes(pv) || s.includes(handle)),
    )
    .map((m) => `${m.mountPoint} (${m.fsType} from ${m.source})`);
}

async function waitVolumeAttachmentsGone(c: CaseContext, pv: string, why: string): Promise<void> {
  await waitFor(
    `every VolumeAttachment of ${pv} gone (${why})`,
    async () => {
      const left = await attachmentsOf(c.kube, pv);
      return { done: left.length === 0, seen: left.map(describeAttachment).join("; ") || "none" };
    },
    { timeoutMs: driverTimeout(c.driver, "podDelete"), intervalMs: 1000, blame: "driver" },
  );
}

const checksum = async (c: CaseContext, pod: string, file: string) =>
  (await c.kube.execInPod(c.ns, pod, readChecksumScript(file))).trim();

export const ATTACH_CASES: Case[] = [
  {
    meta: {
      id: "AT-01",
      area,
      title: "a volume is attached to the pod's node before it is mounted, and detached only after it is unmounted",
      requires,
      asserts:
        "once the pod runs, the volume has exactly one VolumeAttachment, for the pod's node, attached: true, set no later than the container started; after the pod is deleted, the VolumeAttachment goes away, and by then the node holds no mount of the volume",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await caseClaim(c, node);
      const pod = await startPodOn(c, "app", "claim", node);
      const pv = (await readClaim(c.kube, c.ns, "claim")).volumeName;
      const handle = (await c.kube.read("PersistentVolume", pv)).spec?.csi?.volumeHandle ?? pv;
      const vas = await attachmentsOf(c.kube, pv);
      await attachText("VolumeAttachments while the pod runs", JSON.stringify(vas, null, 2), "application/json");
      expect(vas.map(describeAttachment), `VolumeAttachments of ${pv}`).toEqual([
        `${vas[0]?.metadata?.name} → ${node}: attached true`,
      ]);
      const started = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt;
      const attached = attachedAt(vas[0] as VolumeAttachment);
      c.timeline.mark(`attached at ${attached?.toISOString()}, container started at ${started?.toISOString()}`);
      expect(attached, "time the attacher reported the attachment (managedFields)").toBeDefined();
      expect(started, "the container's start time").toBeDefined();
      expect(
        (attached as Date).getTime(),
        "attached no later than the container started (1 s resolution)",
      ).toBeLessThanOrEqual(new Date(started as Date).getTime() + 999);
      expect(await volumeMounts(c, node, pv, handle), `mounts of ${pv} on ${node} while the pod runs`).not.toEqual([]);
      await deletePodAndWait(c.kube, c.ns, "app", driverTimeout(c.driver, "podDelete"));
      c.timeline.mark("pod deleted");
      await waitVolumeAttachmentsGone(c, pv, "its only pod was deleted");
      c.timeline.mark(`VolumeAttachment of ${pv} gone`);
      expect(await volumeMounts(c, node, pv, handle), `mounts of ${pv} on ${node} once the volume is detached`).toEqual(
        [],
      );
    },
  },
  {
    meta: {
      id: "AT-02",
      area,
      title: "a RWO volume attached to one node is never attached to a second node at the same time",
      requires: { ...requires, workers: 2 },
      asserts:
        "while a pod on node A uses a ReadWriteOnce volume: a pod on node B that uses it stays Pending (Multi-Attach), and a VolumeAttachment for node B made directly is refused by the driver (never attached: true, an attachError); once the first pod is gone, the pod on B starts and reads A's data",
    },
    body: async (c) => {
      const [a, b] = c.workers as [string, string];
      await caseClaim(c, a);
      await startPodOn(c, "on-a", "claim", a);
      const pv = (await readClaim(c.kube, c.ns, "claim")).volumeName;
      const p = newPattern(64 * 1024);
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, "on-a", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      await c.createPod(podWithClaim("on-b", "claim", onNode(b)));
      // The attach/detach controller refuses the second node itself; the driver must as well, so
      // ask it directly, as a second attacher or a confused controller would.
      const direct = `volcert-${c.ns}`.slice(0, 63);
      await c.kube.apply({
        apiVersion: "storage.k8s.io/v1",
        kind: "VolumeAttachment",
        metadata: { name: direct },
        spec: { attacher: c.driver.spec.csi?.driverName, nodeName: b, source: { persistentVolumeName: pv } },
      });
      c.defer({
        [Symbol.asyncDispose]: async () => void (await c.kube.deleteIfExists("VolumeAttachment", direct)),
      });
      c.timeline.mark(`pod on-b and VolumeAttachment ${direct} for ${b} created`);
      const window = holdWindow(c.driver, HOLD.attachRefused);
      await holdsFor(
        `volume ${pv} attached only to ${a} while pod on-a uses it`,
        async () => {
          const vas = await attachmentsOf(c.kube, pv);
          const onB = vas.filter((v) => v.spec.nodeName === b && v.status?.attached);
          const podB = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "on-b" });
          return {
            holds: onB.length === 0 && podB.status?.phase === "Pending",
            seen: `${vas.map(describeAttachment).join("; ")}; pod on-b ${podB.status?.phase}`,
          };
        },
        { durationMs: window, intervalMs: 1000, blame: "driver" },
      );
      const refused = (await c.kube.read("VolumeAttachment", direct)).status;
      expect(refused?.attached ?? false, `${direct} attached`).toBe(false);
      expect(refused?.attachError?.message, `${direct}: the driver's refusal`).toBeTruthy();
      c.timeline.mark(`the driver refused ${b}: ${refused?.attachError?.message}`);
      await c.kube.delete("VolumeAttachment", direct);
      await waitFor(`VolumeAttachment ${direct} deleted`, gone(c.kube, "VolumeAttachment", direct), {
        timeoutMs: driverTimeout(c.driver, "podDelete"),
        intervalMs: 1000,
        blame: "driver",
      });
      await deletePodAndWait(c.kube, c.ns, "on-a", driverTimeout(c.driver, "podDelete"));
      c.timeline.mark("pod on-a deleted");
      // Detach from A, then attach to B: the attach/detach controller's retries add to a pod start.
      await waitForPodReady(c.kube, c.ns, "on-b", 2 * driverTimeout(c.driver, "podStart"));
      expect(await checksum(c, "on-b", "/data/pattern"), "pod on-b reads what on-a wrote").toBe(
        await expectedChecksum(p),
      );
      expect(
        (await attachmentsOf(c.kube, pv)).map((v) => `${v.spec.nodeName} ${v.status?.attached ?? false}`),
        `VolumeAttachments of ${pv} after the move`,
      ).toEqual([`${b} true`]);
    },
  },
];
