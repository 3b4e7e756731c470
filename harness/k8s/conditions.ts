/**
 * Named conditions on API objects, as probes for `waitFor` (harness/core/wait.ts): each reads
 * the object once and says what it saw; while the condition does not hold, what it saw is
 * explained (the latest event about the object, whose a binding stall is) only if the wait ends
 * on it. Whoever waits names the wait and says whom its timeout blames:
 *
 *   await waitFor(`PVC ${ns}/data Bound`, claimPhase(kube, ns, "data", "Bound"), { timeoutMs, blame: "driver" });
 *
 * A probe throws when it cannot observe (API unreachable, 5xx, request timeout); the wait retries
 * it. Only a 404 NotFound is "gone".
 */
import type { Observation } from "../core/wait.ts";
import { isNotFound } from "./api-errors.ts";
import { bindingStall, podBindingStall } from "./binding-stall.ts";
import { latestEvent } from "./events.ts";
import {
  describePod,
  isNodeReady,
  isPodReady,
  type Kind,
  type Kube,
  type Model,
  type V1Node,
  type V1Pod,
} from "./kube.ts";

export type Probe<T> = () => Promise<Observation<T>>;

/** `seen` plus the latest event about the object (events about cluster-scoped objects are in "default"). */
async function withEvent(kube: Kube, kind: Kind, name: string, namespace: string | undefined, seen: string) {
  const ev = await latestEvent(kube, namespace ?? "default", kind, name);
  return ev ? `${seen}; last event ${ev}` : seen;
}

/** Done once the API server says the object does not exist. */
export function gone(kube: Kube, kind: Kind, name: string, namespace?: string): Probe<void> {
  return async () => {
    let obj: Model<Kind>;
    try {
      obj = await kube.read(kind, name, namespace);
    } catch (err) {
      if (isNotFound(err)) return { done: true, seen: "gone" };
      throw err;
    }
    return { done: false, seen: stillThere(obj) };
  };
}

/**
 * A namespace being deleted has no pods and no claims left: what it held on nodes and volumes is
 * released. The namespace object itself may still be Terminating (the namespace controller
 * retries with an exponential backoff, up to a minute on a busy cluster, and nothing waits on it).
 */
export function emptied(kube: Kube, namespace: string): Probe<void> {
  return async () => {
    const left = [
      ...(await kube.list("Pod", { namespace })).map((p) => `pod ${p.metadata?.name} ${stillThere(p)}`),
      ...(await kube.list("PersistentVolumeClaim", { namespace })).map(
        (c) => `claim ${c.metadata?.name} ${stillThere(c)}`,
      ),
    ];
    return { done: left.length === 0, seen: left.join("; ") || "no pods or claims left" };
  };
}

/** "still there (Terminating since ...; finalizers kubernetes.io/pv-protection); phase Released" */
function stillThere(obj: Model<Kind>): string {
  const m = obj.metadata;
  const state = m?.deletionTimestamp
    ? `Terminating since ${m.deletionTimestamp.toISOString()}`
    : "not marked for deletion";
  const finalizers = m?.finalizers?.length ? `; finalizers ${m.finalizers.join(", ")}` : "";
  const detail = obj.kind === "Pod" ? `; ${describePod(obj as V1Pod)}` : phaseOf(obj) ? `; phase ${phaseOf(obj)}` : "";
  return `still there (${state}${finalizers})${detail}`;
}

function phaseOf(obj: Model<Kind>): string | undefined {
  const status = (obj as { status?: { phase?: unknown } }).status;
  return typeof status?.phase === "string" ? status.phase : undefined;
}

export interface ClaimState {
  phase: string;
  volumeName: string;
  capacity: string;
}

export function claimState(pvc: Model<"PersistentVolumeClaim">): ClaimState {
  return {
    phase: pvc.status?.phase ?? "Unknown",
    volumeName: pvc.spec?.volumeName ?? "",
    capacity: pvc.status?.capacity?.["storage"] ?? "",
  };
}

/**
 * "phase Pending (volume x); last event ProvisioningFailed: ..." Waiting for Bound, a Pending claim
 * whose volume exists says whose the wait is now (binding-stall.ts).
 */
export function claimPhase(kube: Kube, ns: string, name: string, phase: string): Probe<ClaimState> {
  return async () => {
    const pvc = await kube.read("PersistentVolumeClaim", name, ns);
    const s = claimState(pvc);
    const seen = `phase ${s.phase}${s.volumeName ? ` (volume ${s.volumeName})` : ""}`;
    if (s.phase === phase) return { done: true, value: s, seen };
    return {
      done: false,
      value: s,
      seen,
      explain: async () => {
        const stall = phase === "Bound" ? await bindingStall(kube, pvc) : undefined;
        const withStall = stall ? `${seen}; ${stall.seen}` : seen;
        return {
          seen: await withEvent(kube, "PersistentVolumeClaim", name, ns, withStall),
          ...(stall ? { blame: stall.blame } : {}),
        };
      },
    };
  };
}

/** The PV is in one of `phases` (returned). "phase Released; last event VolumeFailedRecycle: ..." */
export function pvPhase(kube: Kube, name: string, ...phases: string[]): Probe<string> {
  return async () => {
    const pv = await kube.read("PersistentVolume", name);
    const phase = pv.status?.phase ?? "Unknown";
    const seen = `phase ${phase}${pv.spec?.claimRef?.name ? ` (claim ${pv.spec.claimRef.namespace}/${pv.spec.claimRef.name})` : ""}`;
    if (phases.includes(phase)) return { done: true, value: phase, seen };
    return {
      done: false,
      value: phase,
      seen,
      explain: async () => ({ seen: await withEvent(kube, "PersistentVolume", name, undefined, seen) }),
    };
  };
}

/**
 * The pod is Ready. "phase Pending; PodScheduled=Unschedulable: ...; last event FailedMount: ..."
 * A pod not scheduled for its claims says whose that is (binding-stall.ts).
 */
export function podReady(kube: Kube, ns: string, name: string): Probe<V1Pod> {
  return async () => {
    const pod = await kube.read("Pod", name, ns);
    if (isPodReady(pod)) return { done: true, value: pod, seen: describePod(pod) };
    return {
      done: false,
      value: pod,
      seen: describePod(pod),
      explain: async () => {
        const stall = await podBindingStall(kube, pod);
        const seen = stall ? `${describePod(pod)}; ${stall.seen}` : describePod(pod);
        return { seen: await withEvent(kube, "Pod", name, ns, seen), ...(stall ? { blame: stall.blame } : {}) };
      },
    };
  };
}

/** The scheduler placed the pod; the value is its node. "phase Pending; PodScheduled=Unschedulable: ..." */
export function podScheduled(kube: Kube, ns: string, name: string): Probe<string> {
  return async () => {
    const pod = await kube.read("Pod", name, ns);
    const node = pod.spec?.nodeName;
    if (node) return { done: true, value: node, seen: `on ${node}` };
    return {
      done: false,
      seen: describePod(pod),
      explain: async () => ({ seen: await withEvent(kube, "Pod", name, ns, describePod(pod)) }),
    };
  };
}

/** The node's Ready condition is `ready`. "Ready=False (KubeletNotReady)" */
export function nodeReady(kube: Kube, node: string, ready = true): Probe<V1Node> {
  return async () => {
    const n = await kube.read("Node", node);
    const cond = n.status?.conditions?.find((x) => x.type === "Ready");
    return { done: isNodeReady(n) === ready, value: n, seen: `Ready=${cond?.status} (${cond?.reason ?? ""})` };
  };
}
