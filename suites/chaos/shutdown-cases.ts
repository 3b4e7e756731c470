/**
 * NF-04, NF-05, NF-07: the node holding a workload's pod goes away (powered off, gone past the
 * eviction timeout, drained) and a controller replaces the pod. What the replacement may do
 * depends on where the driver keeps the data (see workload.ts); every case states it, checks the
 * data written before, and leaves the node Ready and schedulable.
 */
import { expect } from "vitest";
import { waitFor } from "../../harness/core/wait.ts";
import { drainNode, OUT_OF_SERVICE, outOfServiceTaint } from "../../harness/faults/k8s-faults.ts";
import { stopNode } from "../../harness/faults/node-faults.ts";
import { attachmentsOf } from "../../harness/k8s/attachments.ts";
import { readClaim } from "../../harness/k8s/claims.ts";
import { driverAttaches } from "../../harness/case/gate.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { CLUSTER_LIMITS } from "../../harness/case/limits.ts";
import { area, requires, requiresNodeControl, waitMountsGone, waitNode } from "./cases.ts";
import {
  expectReplacementHeldByAttachment,
  expectReplacementWhileAway,
  HELD_BY_ATTACHMENT,
  heldByAttachment,
  expectWorkloadBack,
  replacementExpectation,
  startWorkload,
  waitPodUidGone,
  type Workload,
} from "./workload.ts";

/** The eviction timeout the NF-05 pod tolerates (the default is 300 s; the eviction path is the same). */
const EVICTION_AFTER_S = 20;

async function expectSchedulable(c: CaseContext, node: string): Promise<void> {
  const n = await c.kube.core.readNode({ name: node });
  expect(n.spec?.unschedulable ?? false, `${node} cordoned`).toBe(false);
  expect(
    (n.spec?.taints ?? []).map((t) => t.key),
    `taints on ${node}`,
  ).not.toContain(OUT_OF_SERVICE);
  c.timeline.mark(`${node} schedulable (taints: ${(n.spec?.taints ?? []).map((t) => t.key).join(", ") || "none"})`);
}

/**
 * The workload's volume is attached to the node its pod now runs on, and only there. For a driver
 * that does not attach, there is nothing to check: that is said in the report, not passed.
 */
async function expectAttachmentsFollow(c: CaseContext, w: Workload, runningOn: string): Promise<void> {
  if (!driverAttaches(c.driver)) {
    await c.notApplicable("the volume's attachments follow the pod", "the driver does not attach volumes");
    return;
  }
  const pv = (await readClaim(c.kube, c.ns, w.claim)).volumeName;
  const vas = await attachmentsOf(c.kube, pv);
  expect(
    vas.map(
      (v) =>
        `${v.spec.nodeName}${v.metadata?.deletionTimestamp ? " (deleting)" : ""}${v.status?.attached ? "" : " (not attached)"}`,
    ),
    `VolumeAttachments of ${pv}`,
  ).toEqual([runningOn]);
}

export const SHUTDOWN_CASES: Case[] = [
  {
    meta: {
      id: "NF-04",
      area,
      title:
        "non-graceful node shutdown: out-of-service taint, the StatefulSet pod is replaced, the node comes back schedulable",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: (d) => replacementExpectation(d, "is shut down"),
      asserts:
        "the node running a StatefulSet pod is powered off until NotReady; the out-of-service taint makes the control plane force-delete the lost pod; the replacement behaves as expected for the driver while the node is down; once the node is started and the taint removed, the node is schedulable, the workload reads the data written before, and every VolumeAttachment of the volume is on the node the pod runs on (for a driver that attaches, the lost node's attachment was force-detached)",
    },
    body: async (c) => {
      const w = await startWorkload(c, "StatefulSet");
      const down = c.guard(await stopNode(c.timeline, w.node));
      await waitNode(c, w.node, false);
      const taint = c.guard(await outOfServiceTaint(c.timeline, c.kube, w.node));
      await waitPodUidGone(
        c,
        w.pod,
        "force-deleted because its node is out of service",
        CLUSTER_LIMITS.outOfServiceForceDelete,
      );
      await expectReplacementWhileAway(c, w, "is shut down");
      await down.heal();
      await waitNode(c, w.node, true);
      await taint.heal();
      await expectSchedulable(c, w.node);
      const back = await expectWorkloadBack(c, w);
      await expectAttachmentsFollow(c, w, back.spec?.nodeName as string);
    },
  },
  {
    meta: {
      id: "NF-05",
      area,
      title:
        "node down past the eviction timeout: the workload is rescheduled with its data (or waits for node-local data)",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: (d) =>
        `${heldByAttachment(d) ? HELD_BY_ATTACHMENT : replacementExpectation(d, "is down")} (the pod tolerates an unreachable node for ${EVICTION_AFTER_S} s instead of the default 300 s; the eviction path is the same)`,
      asserts: `the node running a Deployment's pod is stopped past the pod's eviction timeout (${EVICTION_AFTER_S} s); the pod is evicted, the replacement behaves as expected for the driver while the node is down; once the node is back the evicted pod is finalised , the workload reads the data written before, and every VolumeAttachment of the volume is on the node the pod runs on`,
    },
    body: async (c) => {
      const w = await startWorkload(c, "Deployment", { tolerationSeconds: EVICTION_AFTER_S });
      const down = c.guard(await stopNode(c.timeline, w.node));
      await waitNode(c, w.node, false);
      await waitFor(
        `pod ${w.pod.metadata?.name} evicted (marked for deletion) after ${EVICTION_AFTER_S} s on an unreachable node`,
        async () => {
          const p = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: w.pod.metadata?.name as string });
          const taints = (await c.kube.core.readNode({ name: w.node })).spec?.taints
            ?.map((t) => `${t.key}:${t.effect}`)
            .join(", ");
          return { done: !!p.metadata?.deletionTimestamp, seen: `not evicted yet; node taints: ${taints || "none"}` };
        },
        { timeoutMs: CLUSTER_LIMITS.eviction, intervalMs: 2000, blame: "infrastructure" },
      );
      c.timeline.mark(`pod ${w.pod.metadata?.name} evicted`);
      if (heldByAttachment(c.driver))
        await expectReplacementHeldByAttachment(c, w, (await readClaim(c.kube, c.ns, w.claim)).volumeName);
      else await expectReplacementWhileAway(c, w, "is down");
      await down.heal();
      await waitNode(c, w.node, true);
      await waitPodUidGone(c, w.pod, "the evicted pod is finalised once its kubelet is back");
      const back = await expectWorkloadBack(c, w);
      await waitMountsGone(c, w.node, w.pod.metadata?.uid as string);
      await expectAttachmentsFollow(c, w, back.spec?.nodeName as string);
    },
  },
  {
    meta: {
      id: "NF-07",
      area,
      title: "drain: the pod is evicted cleanly, its mounts and attachments follow it, the node comes back",
      requires,
      disruptive: true,
      expectation: (d) => replacementExpectation(d, "is cordoned"),
      asserts:
        "draining the node of a StatefulSet pod evicts it; its mounts are cleaned up on the node; the replacement behaves as expected for the driver while the node is cordoned; after uncordon the workload reads the data written before, and every VolumeAttachment of the volume is on the node the pod runs on",
    },
    body: async (c) => {
      const w = await startWorkload(c, "StatefulSet");
      const drained = c.guard(await drainNode(c.timeline, c.kube, w.node));
      await waitPodUidGone(c, w.pod, "evicted by the drain");
      await waitMountsGone(c, w.node, w.pod.metadata?.uid as string);
      await expectReplacementWhileAway(c, w, "is cordoned");
      await drained.heal();
      await expectSchedulable(c, w.node);
      const back = await expectWorkloadBack(c, w);
      await expectAttachmentsFollow(c, w, back.spec?.nodeName as string);
    },
  },
];
