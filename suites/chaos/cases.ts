/**
 * NF: node failure and chaos, injected natively (kind nodes are containers): kubelet stopped or
 * restarted, node frozen or cut off the network, CSI plugin and provisioner killed, controller
 * manager restarted. Every case writes seeded data before the fault and checks it after, heals its
 * faults whatever happens, and leaves a timeline in the report. The expected outcome depends on
 * the driver (node-local storage cannot follow a pod to another node) and is stated per case.
 */
import { expect } from "vitest";
import { HarnessBug } from "../../harness/core/errors.ts";
import { holdsFor, waitFor } from "../../harness/core/wait.ts";
import {
  expectedChecksum,
  newPattern,
  readChecksumScript,
  writeScript,
  type Pattern,
} from "../../harness/data/pattern.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import type { DriverFile } from "../../harness/drivers/schema.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { keepDaemonSetOff, killContainer, restartControllerManager } from "../../harness/faults/k8s-faults.ts";
import { partitionNode, pauseNode, restartKubelet, stopKubelet } from "../../harness/faults/node-faults.ts";
import { needsLifecycle } from "../../harness/nodes/lifecycle.ts";
import { podMountsOnNode } from "../../harness/nodes/mountinfo.ts";
import { attachmentsOf } from "../../harness/k8s/attachments.ts";
import { readClaim } from "../../harness/k8s/claims.ts";
import { nodeReady } from "../../harness/k8s/conditions.ts";
import { describePod, isPodReady, type V1Pod } from "../../harness/k8s/kube.ts";
import { deletePodAndWait, waitForPodGone, waitForPodReady } from "../../harness/k8s/pods.ts";
import { driverAttaches } from "../../harness/case/gate.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { caseClaim, onNode, startPodOn } from "../../harness/case/claim.ts";
import {
  caseStorageClass,
  dataPaths,
  readPv,
  waitForDataGone,
  waitForProvisioned,
  waitForPvGone,
} from "../../harness/case/dynamic.ts";
import { podWithClaim } from "../../harness/case/volumes.ts";
import { CLUSTER_LIMITS, HOLD } from "../../harness/case/limits.ts";

export const area = "node failure";
export const requires = { capabilities: ["persistence" as const] };
/** Faults that stop the kubelet, the node or its network need a provider that controls nodes from outside. */
export const requiresNodeControl = { ...requires, nodeLifecycle: true };

const nodeLocal = (d: DriverFile | undefined) =>
  d?.spec.capabilities.singleNodeVolume
    ? "node-local storage (singleNodeVolume): the data stays on its node, so pods come back on that node, not elsewhere"
    : "network storage: the data follows the pod";

interface Written {
  node: string;
  claim: string;
  pod: V1Pod;
  pattern: Pattern;
}

/** A claim on the first worker, a pod using it, and a seeded pattern written through it. */
async function podWithData(c: CaseContext, pod = "app", claimName = "claim"): Promise<Written> {
  const node = c.workers[0] as string;
  const claim = await caseClaim(c, node, { name: claimName });
  const started = await startPodOn(c, pod, claim, node);
  const pattern = newPattern(256 * 1024);
  await recordParameter(`seed (${pod})`, pattern.seed);
  expect((await c.kube.execInPod(c.ns, pod, writeScript(pattern, "/data/pattern"))).trim()).toBe(
    await expectedChecksum(pattern),
  );
  c.timeline.mark(`pod ${pod} (uid ${started.metadata?.uid}) wrote seed ${pattern.seed} on ${node}`);
  return { node, claim, pod: started, pattern };
}

async function expectData(c: CaseContext, pod: string, p: Pattern): Promise<void> {
  expect(
    (await c.kube.execInPod(c.ns, pod, readChecksumScript("/data/pattern"))).trim(),
    `checksum read by ${pod}`,
  ).toBe(await expectedChecksum(p));
  c.timeline.mark(`pod ${pod} read the data back intact`);
}

export async function waitNode(
  c: CaseContext,
  node: string,
  ready: boolean,
  timeoutMs = ready ? CLUSTER_LIMITS.nodeReady : CLUSTER_LIMITS.nodeNotReady,
): Promise<void> {
  await waitFor(`node ${node} ${ready ? "Ready" : "NotReady"}`, nodeReady(c.kube, node, ready), {
    timeoutMs,
    intervalMs: 2000,
    blame: "infrastructure",
  });
  c.timeline.mark(`node ${node} ${ready ? "Ready" : "NotReady"}`);
}

/**
 * The kubelet serves the pod again: an exec through it works. Right after a kubelet restart the
 * API still says Ready while the kubelet has not picked the pod up yet ("pod does not exist").
 */
async function waitExec(c: CaseContext, pod: string, node: string): Promise<void> {
  await waitFor(
    `kubelet on ${node} serves pod ${pod} again (exec works)`,
    async () => {
      // kubectl not reaching the pod throws (PodUnreachable): the wait retries it and shows why.
      const r = await c.kube.runInPod(c.ns, pod, ["true"], { timeoutMs: CLUSTER_LIMITS.podExec });
      return { done: r.exitCode === 0, seen: r.exitCode === 0 ? "exec works" : `exit ${r.exitCode}` };
    },
    { timeoutMs: CLUSTER_LIMITS.kubeletServes, intervalMs: 1000, blame: "infrastructure" },
  );
}

/** The same pod (same UID) still runs, with no container restart. */
async function expectSamePodRunning(c: CaseContext, before: V1Pod): Promise<void> {
  const name = before.metadata?.name as string;
  await waitExec(c, name, before.spec?.nodeName as string);
  const now = await waitForPodReady(c.kube, c.ns, name, driverTimeout(c.driver, "podStart"));
  expect(now.metadata?.uid, `${name} is the same pod`).toBe(before.metadata?.uid);
  const restarts = (p: V1Pod) => (p.status?.containerStatuses ?? []).reduce((n, s) => n + s.restartCount, 0);
  expect(restarts(now), `${name} container restarts`).toBe(restarts(before));
}

/** Named wait until no mount of the pod is left on the node (the kubelet cleaned up after it). */
export async function waitMountsGone(c: CaseContext, node: string, uid: string): Promise<void> {
  await waitFor(
    `mounts of pod ${uid} cleaned up on ${node}`,
    async () => {
      const left = (await podMountsOnNode(c.nodes, node, uid)).map((m) => m.mountPoint);
      return { done: left.length === 0, seen: left.length ? `still mounted: ${left.join(", ")}` : "none" };
    },
    { timeoutMs: driverTimeout(c.driver, "podDelete"), intervalMs: 2000, blame: "driver" },
  );
  c.timeline.mark(`no mount of pod ${uid} left on ${node}`);
}

async function waitPodGone(c: CaseContext, pod: string): Promise<void> {
  await waitForPodGone(c.kube, c.ns, pod, driverTimeout(c.driver, "podDelete"));
  c.timeline.mark(`pod ${pod} gone from the API`);
}

/** The CSI node plugin pod of the driver on a node. */
async function pluginPod(c: CaseContext, node: string): Promise<string> {
  const ref = c.driver.spec.csi?.node;
  if (!ref) throw new HarnessBug("pluginPod needs spec.csi.node (the case's gate requires it)");
  const ns = ref.namespace;
  const pods = (await c.kube.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${node}` })).items;
  const owned = pods.filter((p) =>
    p.metadata?.ownerReferences?.some((o) => o.kind === ref.kind && o.name === ref.name),
  );
  const name = owned.find(isPodReady)?.metadata?.name;
  if (!name) throw new Error(`no ready ${ref.name} pod on ${node}`);
  return name;
}

const PROVISIONER = "csi-provisioner";
const runsProvisioner = (p: V1Pod) => !!p.spec?.containers.some((k) => k.name === PROVISIONER);

/**
 * The pod whose csi-provisioner serves a claim for `node`, and the node it runs on: the node
 * plugin's pod there when the driver provisions per node (the provisioner is a sidecar of the node
 * plugin), else a ready pod of the driver's controller workload (central provisioning).
 */
async function provisionerPod(c: CaseContext, node: string): Promise<{ node: string; pod: string }> {
  if (c.driver.spec.csi?.node) {
    const name = await pluginPod(c, node);
    const pod = await c.kube.core.readNamespacedPod({ namespace: c.driver.spec.csi.node.namespace, name });
    if (runsProvisioner(pod)) return { node, pod: name };
  }
  const ref = c.driver.spec.csi?.controller;
  if (!ref) throw new Error(`no ${PROVISIONER} container in the node plugin and no spec.csi.controller to look in`);
  const pods = (await c.kube.core.listNamespacedPod({ namespace: ref.namespace })).items;
  // A Deployment's pods are owned by its ReplicaSets (`<name>-<hash>`); other workloads own theirs.
  const ownedBy = (p: V1Pod) =>
    !!p.metadata?.ownerReferences?.some(
      (o) =>
        o.name === ref.name ||
        (ref.kind === "Deployment" && o.kind === "ReplicaSet" && o.name.startsWith(`${ref.name}-`)),
    );
  const pod = pods.find((p) => ownedBy(p) && runsProvisioner(p) && isPodReady(p) && p.spec?.nodeName);
  if (!pod?.metadata?.name || !pod.spec?.nodeName)
    throw new Error(`no ready ${ref.kind} ${ref.name} pod with a ${PROVISIONER} container in ${ref.namespace}`);
  return { node: pod.spec.nodeName, pod: pod.metadata.name };
}

export const CHAOS_CASES: Case[] = [
  {
    meta: {
      id: "NF-01",
      area,
      title: "kubelet restart: the pod keeps running and the data stays readable",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: () => "the pod is not restarted and reads the same bytes after the kubelet comes back",
      asserts:
        "after `systemctl restart kubelet` on the pod's node, the node is Ready again, the same pod (same UID, no container restart) is Ready, and the data written before reads back byte for byte; new writes work",
    },
    body: async (c) => {
      const w = await podWithData(c);
      await restartKubelet(c.timeline, w.node);
      await waitNode(c, w.node, true);
      await expectSamePodRunning(c, w.pod);
      await expectData(c, "app", w.pattern);
      await c.kube.execInPod(c.ns, "app", ["sh", "-ec", "echo after-restart > /data/after && cat /data/after"]);
    },
  },
  {
    meta: {
      id: "NF-02",
      area,
      title: "pod deleted while the kubelet is stopped: mount cleaned up when it returns",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: nodeLocal,
      asserts:
        "a pod deleted while its node's kubelet is stopped stays Terminating; once the kubelet is back the pod goes away, none of its mounts is left on the node, and a new pod on that node mounts the volume and reads the old data",
    },
    body: async (c) => {
      const w = await podWithData(c);
      const uid = w.pod.metadata?.uid as string;
      const kubelet = c.guard(await stopKubelet(c.timeline, w.node));
      await c.kube.delete("Pod", "app", c.ns);
      c.timeline.mark("pod app deleted (graceful) while the kubelet is stopped");
      const meanwhile = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "app" });
      expect(meanwhile.metadata?.deletionTimestamp, "the pod waits for its kubelet (Terminating)").toBeDefined();
      await kubelet.heal();
      await waitNode(c, w.node, true);
      await waitPodGone(c, "app");
      await waitMountsGone(c, w.node, uid);
      await startPodOn(c, "next", w.claim, w.node);
      await expectData(c, "next", w.pattern);
    },
  },
  {
    meta: {
      id: "NF-03",
      area,
      title: "pod force-deleted while the kubelet is stopped: orphaned mount cleaned up",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: nodeLocal,
      asserts:
        "a pod force-deleted while its node's kubelet is stopped disappears from the API at once; a replacement is created at once; when the kubelet returns it cleans up the orphaned pod's mounts, and the replacement mounts the volume and reads the old data",
    },
    body: async (c) => {
      const w = await podWithData(c);
      const uid = w.pod.metadata?.uid as string;
      const kubelet = c.guard(await stopKubelet(c.timeline, w.node));
      await c.kube.delete("Pod", "app", c.ns, { gracePeriodSeconds: 0 });
      c.timeline.mark("pod app force-deleted while the kubelet is stopped");
      await waitPodGone(c, "app");
      await c.createPod(podWithClaim("next", w.claim, onNode(w.node)));
      c.timeline.mark("replacement pod next created");
      await kubelet.heal();
      await waitNode(c, w.node, true);
      await waitMountsGone(c, w.node, uid);
      await waitForPodReady(c.kube, c.ns, "next", driverTimeout(c.driver, "podStart"));
      await expectData(c, "next", w.pattern);
    },
  },
  {
    meta: {
      id: "NF-06",
      area,
      title: "node frozen then resumed: no double attach, no corruption",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: () =>
        "the frozen node resumes with its pod and data as they were; at most one VolumeAttachment for the volume",
      asserts:
        "the pod's node is frozen (every process paused) for 20 s and resumed; the node is Ready, the same pod runs without restart, the data reads back intact, and the volume has at most one VolumeAttachment",
    },
    body: async (c) => {
      const w = await podWithData(c);
      const frozen = c.guard(await pauseNode(c.timeline, w.node));
      const lifecycle = needsLifecycle("NF-06 watching the frozen node");
      await holdsFor(
        `node ${w.node} stays frozen`,
        async () => {
          const state = await lifecycle.state(w.node);
          return {
            holds: state === "paused",
            seen: state === "paused" ? state : `node ${w.node} is ${state}, not paused`,
          };
        },
        { durationMs: holdWindow(c.driver, HOLD.nodeFrozen), blame: "infrastructure" },
      );
      await frozen.heal();
      await waitNode(c, w.node, true);
      await expectSamePodRunning(c, w.pod);
      await expectData(c, "app", w.pattern);
      if (!driverAttaches(c.driver)) {
        await c.notApplicable("at most one VolumeAttachment for the volume", "the driver does not attach volumes");
        return;
      }
      const pv = (await readClaim(c.kube, c.ns, w.claim)).volumeName;
      const attachments = await attachmentsOf(c.kube, pv);
      expect(attachments.length, `VolumeAttachments for ${pv}`).toBeLessThanOrEqual(1);
    },
  },
  {
    meta: {
      id: "NF-08",
      area,
      title: "CSI node plugin gone from a node: running pods keep I/O, new mounts wait for it",
      requires: { ...requires, types: ["csi" as const], nodePlugin: true },
      disruptive: true,
      expectation: () =>
        "I/O through an existing mount does not depend on the plugin; a new volume for that node waits while the plugin is gone and is mounted once it is back",
      asserts:
        "with the node plugin removed from the pod's node (its DaemonSet kept off that node, the plugin pod verified gone), the running pod still writes and reads; a new claim and pod for that node are not Ready for 20 s; once the plugin is back, the new pod becomes Ready and passes a data check, and the first pod's data is intact",
    },
    body: async (c) => {
      const w = await podWithData(c);
      const ref = c.driver.spec.csi?.node;
      if (!ref) throw new HarnessBug("NF-08 needs spec.csi.node (its gate requires it)");
      const plugin = await pluginPod(c, w.node);
      const off = c.guard(await keepDaemonSetOff(c.timeline, c.kube, ref.namespace, ref.name, w.node));
      await waitFor(
        `node plugin pod ${plugin} gone from ${w.node}`,
        async () => {
          const left = (
            await c.kube.core.listNamespacedPod({ namespace: ref.namespace, fieldSelector: `spec.nodeName=${w.node}` })
          ).items.filter((p) => p.metadata?.ownerReferences?.some((o) => o.name === ref.name));
          return { done: left.length === 0, seen: left.map(describePod).join("; ") || "none" };
        },
        { timeoutMs: CLUSTER_LIMITS.daemonSetPodGone, intervalMs: 1000, blame: "infrastructure" },
      );
      c.timeline.mark(`no node plugin on ${w.node}`);
      const more = newPattern(64 * 1024);
      expect(
        (await c.kube.execInPod(c.ns, "app", writeScript(more, "/data/during"))).trim(),
        "I/O while the plugin is gone",
      ).toBe(await expectedChecksum(more));
      c.timeline.mark("running pod wrote and read while the plugin was gone");
      const late = await caseClaim(c, w.node, { name: "late" });
      await c.createPod(podWithClaim("late", late, onNode(w.node)));
      const withoutPlugin = holdWindow(c.driver, HOLD.withoutPlugin);
      await holdsFor(
        "the new pod waits while the plugin is gone",
        async () => {
          const p = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "late" });
          const ready = isPodReady(p);
          return {
            holds: !ready,
            seen: ready
              ? `a new volume was mounted on a node without its CSI plugin: ${describePod(p)}`
              : describePod(p),
          };
        },
        { durationMs: withoutPlugin, blame: "driver" },
      );
      c.timeline.mark(`new pod still waiting after ${Math.round(withoutPlugin / 1000)} s without the plugin`);
      await off.heal();
      await waitForPodReady(c.kube, c.ns, "late", 2 * driverTimeout(c.driver, "podStart"));
      c.timeline.mark(`new pod mounted on ${w.node} after the plugin came back (${await pluginPod(c, w.node)})`);
      const p = newPattern(64 * 1024);
      expect((await c.kube.execInPod(c.ns, "late", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      await expectData(c, "app", w.pattern);
    },
  },
  {
    meta: {
      id: "NF-09",
      area,
      title: "CSI provisioner killed during provisioning: the claim binds exactly once",
      requires: { ...requires, types: ["csi" as const], dynamic: true, nodePlugin: true },
      disruptive: true,
      expectation: () => "the restarted provisioner finishes the job: one PV for the claim, no orphan",
      asserts:
        "on a WaitForFirstConsumer copy of the driver's class (so provisioning starts at a known moment whatever the driver's own binding mode), the provisioner container serving the pod's node is killed right after the scheduler picked the node; the claim still binds, exactly one PV refers to it, and its pod passes a data check",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      // An Immediate class provisions at claim creation and never gets a selected node: the kill
      // would race the provisioner. Under WaitForFirstConsumer it starts when the node is picked.
      await caseStorageClass(c, { volumeBindingMode: "WaitForFirstConsumer" });
      const claim = await caseClaim(c, node);
      await c.createPod(podWithClaim("app", claim, onNode(node)));
      await waitFor(
        "the scheduler picked a node for the claim (selected-node annotation)",
        async () => {
          const pvc = await c.kube.core.readNamespacedPersistentVolumeClaim({ namespace: c.ns, name: claim });
          const sel = pvc.metadata?.annotations?.["volume.kubernetes.io/selected-node"];
          return { done: !!sel, seen: sel ?? `phase ${pvc.status?.phase}, not selected yet` };
        },
        { timeoutMs: CLUSTER_LIMITS.schedulerDecision, intervalMs: 250, blame: "infrastructure" },
      );
      const serving = await provisionerPod(c, node);
      await killContainer(c.timeline, serving.node, serving.pod, PROVISIONER);
      const { pv } = await waitForProvisioned(c, claim);
      c.timeline.mark(`claim bound to ${pv.metadata?.name}`);
      const uid = (await c.kube.core.readNamespacedPersistentVolumeClaim({ namespace: c.ns, name: claim })).metadata
        ?.uid;
      const all = await c.kube.list("PersistentVolume");
      expect(
        all.filter((x) => x.spec?.claimRef?.uid === uid).map((x) => x.metadata?.name),
        "PVs referring to the claim",
      ).toEqual([pv.metadata?.name]);
      await waitForPodReady(c.kube, c.ns, "app", driverTimeout(c.driver, "podStart"));
      const p = newPattern(64 * 1024);
      expect((await c.kube.execInPod(c.ns, "app", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
    },
  },
  {
    meta: {
      id: "NF-10",
      area,
      title: "node cut off the network: NotReady, then converges on reconnect with the data intact",
      requires: requiresNodeControl,
      disruptive: true,
      expectation: () =>
        "the pod is not evicted during a short partition (default 300 s toleration) and keeps its data",
      asserts:
        "every packet in or out of the pod's node is dropped until the node is NotReady, then the network is restored; the node is Ready again, the same pod runs without restart, and the data reads back intact",
    },
    body: async (c) => {
      const w = await podWithData(c);
      const cut = c.guard(await partitionNode(c.timeline, w.node));
      await waitNode(c, w.node, false);
      await cut.heal();
      await waitNode(c, w.node, true);
      await expectSamePodRunning(c, w.pod);
      await expectData(c, "app", w.pattern);
    },
  },
  {
    meta: {
      id: "NF-11",
      area,
      title: "kube-controller-manager restarted while a bound claim is deleted: the PV is still reclaimed",
      requires: { ...requires, dynamic: true, dataPaths: true },
      disruptive: true,
      expectation: () => "the PV controller picks the Released volume up after its restart and the driver deletes it",
      asserts:
        "a claim with data is deleted and kube-controller-manager is restarted at once; the PV is still deleted and its data is gone from every node",
    },
    body: async (c) => {
      const w = await podWithData(c);
      const pvName = (await readClaim(c.kube, c.ns, w.claim)).volumeName;
      const paths = dataPaths(c, await readPv(c, pvName));
      await deletePodAndWait(c.kube, c.ns, "app", driverTimeout(c.driver, "podDelete"));
      await c.kube.delete("PersistentVolumeClaim", w.claim, c.ns);
      c.timeline.mark(`claim ${w.claim} deleted`);
      await restartControllerManager(c.timeline, c.kube);
      await waitForPvGone(c, pvName);
      c.timeline.mark(`PV ${pvName} deleted`);
      await waitForDataGone(c, paths);
      c.timeline.mark("volume data gone from every node");
    },
  },
];
