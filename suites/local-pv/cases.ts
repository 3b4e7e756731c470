/**
 * LP: local PersistentVolume scheduling. The scheduler must honour a volume's node affinity; kubelet
 * must refuse to mount a volume on the wrong node or from a missing path. Every case places the
 * volume on one worker and tempts the pod towards the other, so a missing affinity shows up
 * deterministically rather than half of the time.
 */
import { expect } from "vitest";
import { CommandError } from "../../harness/core/exec.ts";
import { holdsFor, waitFor } from "../../harness/core/wait.ts";
import {
  blockWriteScript,
  expectedChecksum,
  newPattern,
  readChecksumScript,
  writeScript,
} from "../../harness/data/pattern.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim, readClaim, waitForClaimPhase } from "../../harness/k8s/claims.ts";
import { gone, podScheduled } from "../../harness/k8s/conditions.ts";
import { eventLine, latestEvent, listEvents } from "../../harness/k8s/events.ts";
import { describePod, isPodReady } from "../../harness/k8s/kube.ts";
import { waitForPodReady } from "../../harness/k8s/pods.ts";
import { placement, storageClassWFFC, waitForFirstConsumer } from "../../harness/case/binding.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { blockPodWithClaim, podWithClaim, staticVolume } from "../../harness/case/volumes.ts";
import { VOLUME_ROOT } from "../../harness/drivers/intree.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import { CLUSTER_LIMITS, HOLD } from "../../harness/case/limits.ts";
import { attachLoopFile } from "../../harness/nodes/loops.ts";
import { claimSize } from "../../harness/case/sizes.ts";

const area = "local PV scheduling";
const requires = {
  types: ["in-tree" as const],
  capabilities: ["topology" as const, "persistence" as const],
  workers: 2,
};

const preferNode = (node: string) => ({
  nodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      {
        weight: 100,
        preference: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] },
      },
    ],
  },
});

async function podEventually(
  c: CaseContext,
  name: string,
  predicate: (seen: string) => boolean,
  what: string,
  timeoutMs: number,
): Promise<string> {
  return waitFor(
    `pod ${name}: ${what}`,
    async () => {
      const pod = await c.kube.core.readNamespacedPod({ namespace: c.ns, name });
      const seen = `${describePod(pod)}; last event ${await latestEvent(c.kube, c.ns, "Pod", name)}`;
      return { done: predicate(seen), value: seen, seen };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  );
}

export const LOCAL_PV_CASES: Case[] = [
  {
    meta: {
      id: "LP-01",
      area,
      title: "a pod using a local PV's claim is scheduled onto the PV's node",
      requires,
      asserts: "the pod lands on the volume's node although it prefers the other worker, and a data check passes",
    },
    body: async (c) => {
      const { home, away } = placement(c);
      await staticVolume(c, "pv", { node: home });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("user", "claim", { affinity: preferNode(away) }));
      // The scheduling decision first: a pod sent to the other worker would only hang in ContainerCreating.
      const node = await waitFor(`pod ${c.ns}/user scheduled`, podScheduled(c.kube, c.ns, "user"), {
        timeoutMs: CLUSTER_LIMITS.schedulerDecision,
        blame: "driver",
      });
      expect(node, "scheduled onto the node that holds the data").toBe(home);
      await waitForPodReady(c.kube, c.ns, "user", driverTimeout(c.driver, "podStart"));
      const p = newPattern(128 * 1024);
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, "user", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      expect((await c.kube.execInPod(c.ns, "user", readChecksumScript("/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
    },
  },
  {
    meta: {
      id: "LP-02",
      area,
      title: "WaitForFirstConsumer binds the PV on the node the pod can run on",
      requires,
      asserts:
        "the claim stays Pending (WaitForFirstConsumer) until a pod uses it, then binds to the PV on the pod's node",
    },
    body: waitForFirstConsumer,
  },
  {
    meta: {
      id: "LP-03",
      area,
      title: "a node selector that conflicts with the PV's node leaves the pod unschedulable",
      requires,
      asserts:
        "the pod stays Pending with reason Unschedulable and the scheduler names the PV's node affinity as the cause",
    },
    body: async (c) => {
      const { home, away } = placement(c);
      await staticVolume(c, "pv", { node: home });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("conflict", "claim", { nodeSelector: { "kubernetes.io/hostname": away } }));
      const seen = await podEventually(
        c,
        "conflict",
        (s) => /Unschedulable/.test(s),
        "reported Unschedulable",
        CLUSTER_LIMITS.schedulerDecision,
      );
      // Kubernetes < 1.2x said "volume node affinity conflict"; 1.34's scheduler says "didn't match PersistentVolume's node affinity".
      expect(seen).toMatch(/volume node affinity conflict|didn't match PersistentVolume's node affinity/);
      expect((await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "conflict" })).spec?.nodeName ?? "").toBe(
        "",
      );
    },
  },
  {
    meta: {
      id: "LP-04",
      area,
      title: "a pod forced onto the wrong node (nodeName) never runs",
      requires,
      asserts:
        "kubelet refuses to mount the local volume on a node outside its affinity; the pod never becomes Running",
    },
    body: async (c) => {
      const { home, away } = placement(c);
      await staticVolume(c, "pv", { node: home });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("forced", "claim", { nodeName: away }));
      const seen = await podEventually(
        c,
        "forced",
        (s) => /affinity|FailedMount|NodeAffinity/i.test(s),
        "mount refused",
        driverTimeout(c.driver, "podStart"),
      );
      expect(seen).not.toMatch(/phase Running/);
      await holdsFor(
        "pod forced (on a node outside the volume's affinity) must never become Ready",
        async () => {
          const pod = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "forced" });
          return { holds: !isPodReady(pod), seen: describePod(pod) };
        },
        { durationMs: holdWindow(c.driver, HOLD.refusedPod), blame: "driver" },
      );
    },
  },
  {
    meta: {
      id: "LP-05",
      area,
      title: "a local PV whose path does not exist fails to mount with a clear event",
      requires,
      asserts: "the pod is not started and a FailedMount event names the missing path",
    },
    body: async (c) => {
      const { home } = placement(c);
      const pv = await staticVolume(c, "pv", { node: home, createPath: false });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("missing", "claim", { nodeName: home }));
      // Any FailedMount event of the pod, not only the latest: once the kubelet's mount wait
      // times out, a generic "Unable to attach or mount volumes" event follows the specific one.
      const named = await waitFor(
        `pod missing: a FailedMount event naming ${pv.path}`,
        async () => {
          const pod = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "missing" });
          const failed = (await listEvents(c.kube, c.ns, { kind: "Pod", name: "missing" }))
            .map(eventLine)
            .filter((l) => l.startsWith("FailedMount"));
          const hit = failed.find((l) => l.includes(pv.path));
          return {
            done: !!hit,
            seen: `${describePod(pod)}; FailedMount events: ${failed.join(" | ") || "none"}`,
            ...(hit ? { value: hit } : {}),
          };
        },
        { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 2000, blame: "driver" },
      );
      c.timeline.mark(`refused: ${named}`);
      expect((await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "missing" })).status?.phase).not.toBe(
        "Running",
      );
      expect((await readClaim(c.kube, c.ns, "claim")).phase).toBe("Bound");
    },
  },
  {
    meta: {
      id: "LP-06",
      area,
      title: "a StatefulSet spreads over nodes with anti-affinity, and packs onto one with affinity",
      requires,
      asserts:
        "with required pod anti-affinity each replica runs on its own worker and is bound to the local PV of that worker; with required pod affinity all replicas land on the one worker that has free local PVs, each bound to a PV there",
    },
    body: async (c) => {
      const { home } = placement(c);
      await storageClassWFFC(c);
      const pvNode = new Map<string, string>();
      for (const w of c.workers) pvNode.set((await staticVolume(c, `spread-${w.slice(-8)}`, { node: w })).pvName, w);
      const spread = await runStatefulSet(c, "spread", c.workers.length, "podAntiAffinity");
      expect(new Set(spread.map((r) => r.node)).size, "one replica per worker").toBe(c.workers.length);
      for (const r of spread) expect(pvNode.get(r.pv), `${r.pod} is bound to the PV of its own node`).toBe(r.node);
      await deleteStatefulSet(c, "spread");
      for (let i = 0; i < 2; i++) pvNode.set((await staticVolume(c, `packed-${i}`, { node: home })).pvName, home);
      const packed = await runStatefulSet(c, "packed", 2, "podAffinity");
      for (const r of packed) {
        expect(r.node, `${r.pod} lands on ${home}, the only worker with free local PVs`).toBe(home);
        expect(pvNode.get(r.pv)).toBe(home);
      }
      await deleteStatefulSet(c, "packed");
    },
  },
  {
    meta: {
      id: "LP-07",
      area,
      title: "a local PV on a loop device: formatted in Filesystem mode, raw in Block mode",
      requires: { ...requires, inTreePlugins: ["local"] },
      asserts:
        "a local PV whose path is a loop device (created in the node) with fsType ext4 is formatted by the kubelet and mounted as ext4 in the pod, and seeded data reads back; the same kind of PV in Block mode reaches the pod as a raw block device that round-trips a seeded pattern with direct I/O",
    },
    body: async (c) => {
      const { home } = placement(c);
      await storageClassWFFC(c);
      const fsDev = await loopDevice(c, home, "fs");
      const blockDev = await loopDevice(c, home, "block");
      await localDevicePv(c, "fs", home, fsDev, "Filesystem");
      await localDevicePv(c, "block", home, blockDev, "Block");
      await createClaim(c.kube, c.ns, { name: "fs", storageClassName: c.ns, size: "64Mi" });
      await createClaim(c.kube, c.ns, { name: "block", storageClassName: c.ns, size: "64Mi", volumeMode: "Block" });
      await c.createPod(podWithClaim("fs", "fs", { nodeSelector: { "kubernetes.io/hostname": home } }));
      await c.createPod(blockPodWithClaim("block", "block", { nodeSelector: { "kubernetes.io/hostname": home } }));
      await waitForPodReady(c.kube, c.ns, "fs", driverTimeout(c.driver, "podStart"));
      expect(
        (await c.kube.execInPod(c.ns, "fs", ["findmnt", "-n", "-o", "FSTYPE", "--target", "/data"])).trim(),
        `filesystem the kubelet put on ${fsDev}`,
      ).toBe("ext4");
      const p = newPattern(256 * 1024);
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, "fs", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      await waitForPodReady(c.kube, c.ns, "block", driverTimeout(c.driver, "podStart"));
      expect((await c.kube.execInPod(c.ns, "block", ["sh", "-c", "test -b /dev/xvda && echo block"])).trim()).toBe(
        "block",
      );
      const q = newPattern(1024 * 1024);
      await recordParameter("seed (block)", q.seed);
      expect((await c.kube.execInPod(c.ns, "block", blockWriteScript(q, "/dev/xvda"))).trim()).toBe(
        await expectedChecksum(q),
      );
      // Raw means raw: the kubelet must not have put a filesystem on the Block-mode device.
      const blkid = await c.nodes.exec(home, ["blkid", "-o", "value", "-s", "TYPE", blockDev], {
        nothrow: true,
      });
      // blkid exits 2 when it finds no signature; any other failure is not an answer.
      if (blkid.exitCode !== 0 && blkid.exitCode !== 2) throw new CommandError(blkid);
      expect(blkid.stdout.trim(), `filesystem signature on ${blockDev}`).toBe("");
    },
  },
];

/** A sparse file attached to a loop device inside the node; detached and removed when the case ends. */
async function loopDevice(c: CaseContext, node: string, suffix: string): Promise<string> {
  const file = `${VOLUME_ROOT}/${c.ns}-${suffix}.img`;
  const { device: dev } = c.defer(await attachLoopFile(c.nodes, node, file, "64M"), `loop device ${file}`);
  await recordParameter(`loop device (${suffix})`, `${dev} on ${node} backed by ${file}`);
  return dev;
}

async function localDevicePv(
  c: CaseContext,
  suffix: string,
  node: string,
  device: string,
  volumeMode: "Filesystem" | "Block",
): Promise<void> {
  const name = `${c.ns}-${suffix}`;
  await c.kube.apply({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "volcert", "volcert.io/case": c.ns } },
    spec: {
      capacity: { storage: "64Mi" },
      accessModes: ["ReadWriteOnce"],
      volumeMode,
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: c.ns,
      local: { path: device, ...(volumeMode === "Filesystem" ? { fsType: "ext4" } : {}) },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] },
          ],
        },
      },
    },
  });
  c.defer({
    [Symbol.asyncDispose]: async () => void (await c.kube.deleteDroppingFinalizers("PersistentVolume", name)),
  });
}

interface Replica {
  pod: string;
  node: string;
  pv: string;
}

/** A StatefulSet of workload pods with one claim each on the case's class; waits until every replica is Ready. */
async function runStatefulSet(
  c: CaseContext,
  name: string,
  replicas: number,
  rule: "podAffinity" | "podAntiAffinity",
): Promise<Replica[]> {
  const labels = { app: name };
  await c.kube.apply(
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name },
      spec: {
        serviceName: name,
        replicas,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...podWithClaim("x", "x").spec,
            volumes: [],
            affinity: {
              [rule]: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" },
                ],
              },
            },
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "vol" },
            spec: {
              storageClassName: c.ns,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: claimSize(c.driver) } },
            },
          },
        ],
      },
    },
    c.ns,
  );
  const pods = Array.from({ length: replicas }, (_, i) => `${name}-${i}`);
  const out: Replica[] = [];
  for (const pod of pods) {
    const ready = await waitForPodReady(c.kube, c.ns, pod, driverTimeout(c.driver, "podStart"));
    const claim = await readClaim(c.kube, c.ns, `vol-${pod}`);
    out.push({ pod, node: ready.spec?.nodeName ?? "", pv: claim.volumeName });
  }
  await recordParameter(`${name} placement`, out.map((r) => `${r.pod} on ${r.node} with ${r.pv}`).join("; "));
  return out;
}

async function deleteStatefulSet(c: CaseContext, name: string): Promise<void> {
  // Foreground: the StatefulSet is gone only once its pods are (kubectl delete --cascade=foreground --wait).
  await c.kube.delete("StatefulSet", name, c.ns, { propagationPolicy: "Foreground" });
  await waitFor(`StatefulSet ${name} and its pods deleted`, gone(c.kube, "StatefulSet", name, c.ns), {
    timeoutMs: driverTimeout(c.driver, "podDelete"),
    intervalMs: 1000,
    blame: "driver",
  });
  const claims = (await c.kube.core.listNamespacedPersistentVolumeClaim({ namespace: c.ns })).items
    .map((x) => x.metadata?.name ?? "")
    .filter((n) => n.startsWith(`vol-${name}-`));
  for (const claim of claims) await c.kube.delete("PersistentVolumeClaim", claim, c.ns);
  await waitFor(
    `claims of StatefulSet ${name} deleted`,
    async () => {
      const left = (await c.kube.core.listNamespacedPersistentVolumeClaim({ namespace: c.ns })).items
        .map((x) => x.metadata?.name ?? "")
        .filter((n) => n.startsWith(`vol-${name}-`));
      return { done: left.length === 0, seen: left.join(", ") || "none" };
    },
    { timeoutMs: driverTimeout(c.driver, "claimBound"), intervalMs: 1000, blame: "driver" },
  );
}
