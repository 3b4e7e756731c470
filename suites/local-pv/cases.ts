/**
 * LP: local PersistentVolume scheduling. The scheduler must honour a volume's node affinity; kubelet
 * must refuse to mount a volume on the wrong node or from a missing path. Every case places the
 * volume on one worker and tempts the pod towards the other, so a missing affinity shows up
 * deterministically rather than half of the time.
 */
import { expect } from "vitest";
import { waitFor } from "../../harness/core/wait.ts";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim, latestEvent, readClaim, waitForClaimPhase } from "../../harness/k8s/claims.ts";
import { describePod } from "../../harness/k8s/kube.ts";
import { waitForPodReady } from "../../harness/k8s/pods.ts";
import type { Case, CaseContext } from "../support/case.ts";
import { podWithClaim, staticVolume } from "../support/volumes.ts";

const area = "local PV scheduling";
const requires = { types: ["in-tree" as const], capabilities: ["topology" as const, "persistence" as const] };

const preferNode = (node: string) => ({
  nodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 100, preference: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] } },
    ],
  },
});

/** Worker holding the data, and the other worker (needs two). */
function placement(c: CaseContext): { home: string; away: string } {
  expect(c.workers.length, "local PV cases need two workers").toBeGreaterThanOrEqual(2);
  return { home: c.workers[1] as string, away: c.workers[0] as string };
}

async function storageClassWFFC(c: CaseContext): Promise<void> {
  await c.kube.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: c.ns, labels: { "app.kubernetes.io/managed-by": "volcert" } },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
    }),
  });
  c.defer({ [Symbol.asyncDispose]: async () => void (await c.kube.kubectl(["delete", "storageclass", c.ns, "--ignore-not-found"], { nothrow: true })) });
}

async function podEventually(c: CaseContext, name: string, predicate: (seen: string) => boolean, what: string): Promise<string> {
  return waitFor(
    `pod ${name}: ${what}`,
    async () => {
      const pod = await c.kube.core.readNamespacedPod({ namespace: c.ns, name });
      const seen = `${describePod(pod)}; last event ${await latestEvent(c.kube, c.ns, "Pod", name)}`;
      return { done: predicate(seen), value: seen, seen };
    },
    { timeoutMs: 90_000, intervalMs: 2000 },
  );
}

/** Shared by LP-02 and BD-07: WaitForFirstConsumer binds only once a pod picks a node. */
export async function waitForFirstConsumer(c: CaseContext): Promise<void> {
  const { home, away } = placement(c);
  await storageClassWFFC(c);
  const homePv = await staticVolume(c, "home", { node: home });
  await staticVolume(c, "away", { node: away });
  await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: "1Gi" });
  await expect(waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: 15_000 }), "claim must wait for its first consumer").rejects.toThrow(/not done/);
  expect(await latestEvent(c.kube, c.ns, "PersistentVolumeClaim", "claim")).toMatch(/WaitForFirstConsumer/);
  await c.createPod(podWithClaim("consumer", "claim", { nodeSelector: { "kubernetes.io/hostname": home } }));
  const bound = await waitForClaimPhase(c.kube, c.ns, "claim", "Bound");
  expect(bound.volumeName, "bound to the PV on the pod's node").toBe(homePv.pvName);
  const pod = await waitForPodReady(c.kube, c.ns, "consumer");
  expect(pod.spec?.nodeName).toBe(home);
}

export const LOCAL_PV_CASES: Case[] = [
  {
    meta: { id: "LP-01", area, title: "a pod using a local PV's claim is scheduled onto the PV's node", requires, asserts: "the pod lands on the volume's node although it prefers the other worker, and a data check passes" },
    body: async (c) => {
      const { home, away } = placement(c);
      await staticVolume(c, "pv", { node: home });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: "1Gi" });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound");
      await c.createPod(podWithClaim("user", "claim", { affinity: preferNode(away) }));
      const pod = await waitForPodReady(c.kube, c.ns, "user");
      expect(pod.spec?.nodeName, "scheduled onto the node that holds the data").toBe(home);
      const p = newPattern(128 * 1024);
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, "user", writeScript(p, "/data/pattern"))).trim()).toBe(await expectedChecksum(p));
      expect((await c.kube.execInPod(c.ns, "user", readChecksumScript("/data/pattern"))).trim()).toBe(await expectedChecksum(p));
    },
  },
  {
    meta: { id: "LP-02", area, title: "WaitForFirstConsumer binds the PV on the node the pod can run on", requires, asserts: "the claim stays Pending (WaitForFirstConsumer) until a pod uses it, then binds to the PV on the pod's node" },
    body: waitForFirstConsumer,
  },
  {
    meta: { id: "LP-03", area, title: "a node selector that conflicts with the PV's node leaves the pod unschedulable", requires, asserts: "the pod stays Pending with reason Unschedulable and the scheduler names the PV's node affinity as the cause" },
    body: async (c) => {
      const { home, away } = placement(c);
      await staticVolume(c, "pv", { node: home });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: "1Gi" });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound");
      await c.createPod(podWithClaim("conflict", "claim", { nodeSelector: { "kubernetes.io/hostname": away } }));
      const seen = await podEventually(c, "conflict", (s) => /Unschedulable/.test(s), "reported Unschedulable");
      // Kubernetes < 1.2x said "volume node affinity conflict"; 1.34's scheduler says "didn't match PersistentVolume's node affinity".
      expect(seen).toMatch(/volume node affinity conflict|didn't match PersistentVolume's node affinity/);
      expect((await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "conflict" })).spec?.nodeName ?? "").toBe("");
    },
  },
  {
    meta: { id: "LP-04", area, title: "a pod forced onto the wrong node (nodeName) never runs", requires, asserts: "kubelet refuses to mount the local volume on a node outside its affinity; the pod never becomes Running" },
    body: async (c) => {
      const { home, away } = placement(c);
      await staticVolume(c, "pv", { node: home });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: "1Gi" });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound");
      await c.createPod(podWithClaim("forced", "claim", { nodeName: away }));
      const seen = await podEventually(c, "forced", (s) => /affinity|FailedMount|NodeAffinity/i.test(s), "mount refused");
      expect(seen).not.toMatch(/phase Running/);
      await expect(waitForPodReady(c.kube, c.ns, "forced", 20_000), "must never become Ready").rejects.toThrow(/not done/);
    },
  },
  {
    meta: { id: "LP-05", area, title: "a local PV whose path does not exist fails to mount with a clear event", requires, asserts: "the pod is not started and a FailedMount event names the missing path" },
    body: async (c) => {
      const { home } = placement(c);
      const pv = await staticVolume(c, "pv", { node: home, createPath: false });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: "1Gi" });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound");
      await c.createPod(podWithClaim("missing", "claim", { nodeName: home }));
      const seen = await podEventually(c, "missing", (s) => /FailedMount/.test(s), "FailedMount event");
      expect(seen).toContain(pv.path);
      expect(seen).not.toMatch(/phase Running/);
      expect((await readClaim(c.kube, c.ns, "claim")).phase).toBe("Bound");
    },
  },
];
