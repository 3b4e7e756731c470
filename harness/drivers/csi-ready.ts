/**
 * When an installed CSI driver is ready, whoever installed it (volcert's own apply or Helm): its
 * workloads are ready and the kubelet of every node has registered it (CSINode). A container that
 * keeps crashing ends the wait at once, as the driver's failure. Named, bounded waits only.
 */
import { DriverDefect } from "../core/errors.ts";
import { Verdict, waitFor } from "../core/wait.ts";
import { latestEvent } from "../k8s/events.ts";
import type { Kube, V1DaemonSet, V1Deployment, V1StatefulSet } from "../k8s/kube.ts";

export interface WorkloadRef {
  kind: "Deployment" | "StatefulSet" | "DaemonSet";
  name: string;
  namespace: string;
}

export async function waitForWorkload(kube: Kube, w: WorkloadRef, timeoutMs: number): Promise<void> {
  await waitFor(
    `${w.kind} ${w.namespace}/${w.name} ready`,
    async () => {
      const o = await kube.readIfExists(w.kind, w.name, w.namespace);
      if (!o) return { done: false, seen: "not found" };
      const pods = async () => {
        const states = await podStates(kube, w.namespace);
        return states === "no pods"
          ? `no pods; last event: ${(await latestEvent(kube, w.namespace, w.kind, w.name)) || "none"}`
          : states;
      };
      // A container that keeps crashing will not become ready by waiting longer: say so now.
      const looping = await crashLoops(kube, w.namespace);
      if (looping.length) {
        throw new Verdict(
          new DriverDefect(`${w.kind} ${w.namespace}/${w.name}: containers crash-loop: ${looping.join("; ")}`),
        );
      }
      if ((o.status?.observedGeneration ?? 0) < (o.metadata?.generation ?? 0))
        return { done: false, seen: "controller has not observed the latest spec yet" };
      if (w.kind === "DaemonSet") {
        const s = (o as V1DaemonSet).status ?? { desiredNumberScheduled: 0, numberReady: 0, updatedNumberScheduled: 0 };
        const want = s.desiredNumberScheduled ?? 0;
        const done = want > 0 && s.numberReady === want && s.updatedNumberScheduled === want;
        return { done, seen: `${s.numberReady ?? 0}/${want} pods ready${done ? "" : `; ${await pods()}`}` };
      }
      const s = (o as V1Deployment | V1StatefulSet).status;
      const want = (o as V1Deployment | V1StatefulSet).spec?.replicas ?? 1;
      const done = (s?.readyReplicas ?? 0) >= want;
      return { done, seen: `${s?.readyReplicas ?? 0}/${want} replicas ready${done ? "" : `; ${await pods()}`}` };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  );
}

/** Restarts after which a container in CrashLoopBackOff is taken as never going to start. */
const CRASH_LOOP_RESTARTS = 3;

/** "pod/container (N restarts, last exit code X)" for every container crash-looping in the namespace. */
async function crashLoops(kube: Kube, namespace: string): Promise<string[]> {
  const pods = (await kube.core.listNamespacedPod({ namespace })).items;
  return pods.flatMap((p) =>
    (p.status?.containerStatuses ?? [])
      .filter(
        (c) =>
          (c.restartCount ?? 0) >= CRASH_LOOP_RESTARTS &&
          (c.state?.waiting?.reason === "CrashLoopBackOff" || (c.state?.terminated?.exitCode ?? 0) !== 0),
      )
      .map(
        (c) =>
          `${p.metadata?.name}/${c.name} on ${p.spec?.nodeName ?? "?"} (${c.restartCount} restarts, last exit code ${c.state?.terminated?.exitCode ?? c.lastState?.terminated?.exitCode ?? "?"})`,
      ),
  );
}

/** "pod-a on node-1: hostpath waiting CrashLoopBackOff, ..." — what a timed-out wait reports. */
async function podStates(kube: Kube, namespace: string): Promise<string> {
  const pods = (await kube.core.listNamespacedPod({ namespace })).items;
  return (
    pods
      .map((p) => {
        const waiting = (p.status?.containerStatuses ?? [])
          .filter((c) => !c.ready)
          .map(
            (c) =>
              `${c.name} ${c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? "not ready"}${c.restartCount ? ` (${c.restartCount} restarts)` : ""}`,
          );
        return `${p.metadata?.name} on ${p.spec?.nodeName ?? "?"}: ${p.status?.phase}${waiting.length ? ` [${waiting.join(", ")}]` : ""}`;
      })
      .join("; ") || "no pods"
  );
}

/** The kubelet writes the driver into CSINode once the plugin registered on that node. */
export async function waitForCsiNodes(kube: Kube, driverName: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `CSI driver ${driverName} registered on every node (CSINode)`,
    async () => {
      const nodes = (await kube.core.listNode()).items.map((n) => n.metadata?.name as string);
      const csiNodes = (await kube.storage.listCSINode()).items;
      const missing = nodes.filter(
        (n) => !csiNodes.find((c) => c.metadata?.name === n)?.spec.drivers?.some((dr) => dr.name === driverName),
      );
      return { done: missing.length === 0, seen: missing.length ? `not registered on ${missing.join(", ")}` : "all" };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  );
}
