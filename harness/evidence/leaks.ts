/**
 * Leak check after every case, passed or failed: nothing the case created may survive it. In the
 * API: its namespace, PVs, VolumeAttachments of its PVs, its StorageClasses, pods elsewhere that
 * name it (a driver's helper pods), and cordons or taints added to nodes since it began. On every
 * node, stopped or frozen ones included: mounts of its pods and volumes (pod, CSI staging and
 * driver mounts), loop devices of its files, its volume data, volume directories and the kubelet
 * directories of its pods. It fails closed: anything it cannot look at is a failed check.
 */
import { effectiveSignal } from "../core/abort.ts";
import type { NodeAccess } from "../core/nodes.ts";
import { waitFor } from "../core/wait.ts";
import { VOLUME_ROOT } from "../drivers/intree.ts";
import type { Kube, V1Node, V1Pod } from "../k8s/kube.ts";
import { caseMounts, KUBELET_DIR, snapshotNode, type LoopDevice, type VolumeRef } from "../nodes/leftovers.ts";
import { isClean, type LeakReport, type Leftover, type ProbeFailure } from "./leak-report.ts";

export type { VolumeRef } from "../nodes/leftovers.ts";

/** A node's cordon and taints ("key=value:Effect"). */
export interface NodeMarks {
  unschedulable: boolean;
  taints: string[];
}

export interface LeakScope {
  namespace: string;
  /** The case's pods: tracked by the case, and every pod in its namespace before disposal. */
  podUids: readonly string[];
  /** The case's volumes, read before disposal deleted them. */
  volumes: readonly VolumeRef[];
  /** Node paths of provisioned volumes' data (driver volumeDataPaths) that must be gone. */
  dataPaths: readonly string[];
  /** Every node's cordon and taints when the case began (undefined: could not be read). */
  nodesBefore?: ReadonlyMap<string, NodeMarks>;
  /** What could not be read while the scope was gathered: the check cannot be complete. */
  scopeFailures?: readonly ProbeFailure[];
}

export async function nodeMarks(kube: Kube): Promise<Map<string, NodeMarks>> {
  return new Map((await kube.list("Node")).map((n) => [n.metadata?.name ?? "", marksOf(n)]));
}

function marksOf(n: V1Node): NodeMarks {
  return {
    unschedulable: n.spec?.unschedulable ?? false,
    taints: (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`),
  };
}

/** The case's pods and volumes, read before disposal deletes them (controllers' pods included). */
export async function caseObjects(kube: Kube, namespace: string): Promise<{ podUids: string[]; volumes: VolumeRef[] }> {
  const pods = await kube.list("Pod", { namespace });
  const claims = new Set(
    (await kube.list("PersistentVolumeClaim", { namespace })).map((c) => c.spec?.volumeName).filter(Boolean),
  );
  const volumes = (await kube.list("PersistentVolume"))
    .filter(
      (pv) =>
        isCasePv(pv.metadata?.name ?? "", pv.spec?.claimRef?.namespace, namespace) || claims.has(pv.metadata?.name),
    )
    .map((pv) => ({
      pv: pv.metadata?.name ?? "",
      ...(pv.spec?.csi ? { csiDriver: pv.spec.csi.driver, volumeHandle: pv.spec.csi.volumeHandle } : {}),
    }));
  return { podUids: pods.map((p) => p.metadata?.uid ?? "").filter(Boolean), volumes };
}

function isCasePv(name: string, claimNamespace: string | undefined, namespace: string): boolean {
  return !!name && (claimNamespace === namespace || name.startsWith(`${namespace}-`));
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3).join(" ");
}

/** Findings of one check, and the probe wrapper that turns "could not look" into a finding. */
class Findings {
  readonly leftovers: Leftover[] = [];
  readonly probeFailures: ProbeFailure[];
  constructor(earlier: readonly ProbeFailure[]) {
    this.probeFailures = [...earlier];
  }
  driver(what: string): void {
    this.leftovers.push({ what, blame: "driver" });
  }
  notDriver(what: string): void {
    this.leftovers.push({ what, blame: "infrastructure" });
  }
  async look<T>(probe: string, fn: () => Promise<T>, node?: string): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      effectiveSignal()?.throwIfAborted(); // the case was aborted: that is not a probe's failure
      this.probeFailures.push({ probe, ...(node ? { node } : {}), error: message(err) });
      return undefined;
    }
  }
}

export async function checkLeaks(kube: Kube, access: NodeAccess, scope: LeakScope): Promise<LeakReport> {
  const f = new Findings(scope.scopeFailures ?? []);
  const { volumeNames, apiNodes } = await checkApi(kube, scope, f);
  // Every node: the shell's own list (kind's includes stopped nodes) and the API's.
  const names = new Set((await f.look("list nodes through the node shell", () => access.shell.nodes())) ?? []);
  for (const n of apiNodes) if (n.metadata?.name) names.add(n.metadata.name);
  const nodes = [...names].sort();
  await checkNodes(access, scope, nodes, volumeNames, f);
  return {
    leftovers: f.leftovers,
    probeFailures: f.probeFailures,
    checked: `the API and nodes ${nodes.join(", ") || "(none found)"}`,
  };
}

async function checkApi(
  kube: Kube,
  scope: LeakScope,
  f: Findings,
): Promise<{ volumeNames: Set<string>; apiNodes: V1Node[] }> {
  const ns = scope.namespace;
  // Disposal deleted the namespace and waited for its pods and claims; the object itself may still
  // be Terminating (the namespace controller's own backoff), which is nobody's leak.
  const namespace = await f.look("namespace", () => kube.readIfExists("Namespace", ns));
  if (namespace && !namespace.metadata?.deletionTimestamp) f.notDriver(`namespace ${ns} was not deleted`);
  for (const c of (await f.look("list claims", () => kube.list("PersistentVolumeClaim", { namespace: ns }))) ?? [])
    f.driver(`claim ${ns}/${c.metadata?.name} still exists (phase ${c.status?.phase ?? "unknown"})`);
  const volumeNames = new Set(scope.volumes.map((v) => v.pv));
  for (const pv of (await f.look("list PersistentVolumes", () => kube.list("PersistentVolume"))) ?? []) {
    const name = pv.metadata?.name ?? "";
    if (!isCasePv(name, pv.spec?.claimRef?.namespace, ns) && !volumeNames.has(name)) continue;
    volumeNames.add(name);
    f.driver(`PersistentVolume ${name} (case ${ns}) still exists (phase ${pv.status?.phase ?? "unknown"})`);
  }
  for (const va of (await f.look("list VolumeAttachments", () => kube.list("VolumeAttachment"))) ?? []) {
    const pv = va.spec?.source?.persistentVolumeName;
    if (pv && volumeNames.has(pv))
      f.driver(`VolumeAttachment ${va.metadata?.name} of PV ${pv} to node ${va.spec?.nodeName} still exists`);
  }
  for (const sc of (await f.look("list StorageClasses", () => kube.list("StorageClass"))) ?? []) {
    const name = sc.metadata?.name ?? "";
    if (name !== ns && !name.startsWith(`${ns}-`)) continue;
    // volcert deletes the case's classes; one still there is held by a finalizer, or the delete failed.
    if (sc.metadata?.deletionTimestamp)
      f.driver(`StorageClass ${name} still exists, held by ${(sc.metadata.finalizers ?? []).join(", ")}`);
    else f.notDriver(`StorageClass ${name} was not deleted`);
  }
  for (const pod of (await f.look("list pods", () => kube.list("Pod"))) ?? []) {
    if (pod.metadata?.namespace === ns) f.driver(`pod ${ns}/${pod.metadata?.name} still exists`);
    else if (namesCase(pod, ns, volumeNames))
      f.driver(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} refers to case ${ns} and still exists`);
  }
  const apiNodes = (await f.look("list nodes", () => kube.list("Node"))) ?? [];
  for (const n of apiNodes) {
    const name = n.metadata?.name ?? "";
    for (const what of newMarks(scope.nodesBefore?.get(name), marksOf(n))) f.notDriver(`node ${name} ${what}`);
  }
  return { volumeNames, apiNodes };
}

async function checkNodes(
  access: NodeAccess,
  scope: LeakScope,
  nodes: readonly string[],
  volumeNames: ReadonlySet<string>,
  f: Findings,
): Promise<void> {
  const ns = scope.namespace;
  const dataPaths = new Set(scope.dataPaths);
  const podDirs = new Map(scope.podUids.map((uid) => [`${KUBELET_DIR}/pods/${uid}`, uid]));
  const volumes = volumeRefs(scope, volumeNames);
  const markers = [`/${ns}-`, ...[...volumeNames].map((pv) => `/${pv}`)];
  const loops = new Map<string, string>();
  for (const node of nodes) {
    const snap = await f.look(
      "node shell",
      async () => {
        try {
          return await snapshotNode(access.shell, node, [...dataPaths, ...podDirs.keys()], [`${VOLUME_ROOT}/${ns}`]);
        } catch (err) {
          throw new Error(await unreachableNode(access, node, err));
        }
      },
      node,
    );
    if (!snap) continue;
    for (const p of snap.failures) f.probeFailures.push({ probe: p.probe, node, error: p.error });
    for (const { mount, why } of caseMounts(snap.mounts ?? [], scope.podUids, volumes))
      f.driver(`${node}: ${why} left behind: ${mount.mountPoint}`);
    for (const l of snap.loops ?? []) if (markers.some((m) => l.file.includes(m))) loops.set(loopText(l), node);
    for (const p of snap.present ?? []) {
      const uid = podDirs.get(p);
      if (dataPaths.has(p)) f.driver(`volume data left behind on ${node}: ${p}`);
      else if (uid) f.driver(`${node}: kubelet directory of pod ${uid} left behind: ${p}`);
      else f.driver(`${node}: volume directory ${p} left behind`);
    }
  }
  // On kind every node sees the host kernel's loop devices: each is reported once.
  for (const [loop, node] of loops) f.driver(`loop device left attached: ${loop} (seen on ${node})`);
}

/** The scope's volumes, and PVs of the case found only now (by name, no CSI details). */
function volumeRefs(scope: LeakScope, names: ReadonlySet<string>): VolumeRef[] {
  const known = new Set(scope.volumes.map((v) => v.pv));
  return [...scope.volumes, ...[...names].filter((pv) => !known.has(pv)).map((pv) => ({ pv }))];
}

function loopText(l: LoopDevice): string {
  return `${l.device} ${l.file}`;
}

/** Why a node could not be probed: its power state where the provider knows it, else the error. */
async function unreachableNode(access: NodeAccess, node: string, err: unknown): Promise<string> {
  const state = await access.lifecycle?.state(node).catch(() => "unknown" as const);
  const why = message(err);
  if (state === "stopped" || state === "paused")
    return `node is ${state}, so its mounts, loop devices and kubelet directories cannot be checked (${why})`;
  return why;
}

/** A pod outside the case's namespace that names the case or one of its volumes (a driver's helper pod). */
function namesCase(pod: V1Pod, ns: string, volumes: ReadonlySet<string>): boolean {
  const words = [
    pod.metadata?.name ?? "",
    ...Object.values(pod.metadata?.labels ?? {}),
    ...Object.values(pod.metadata?.annotations ?? {}),
  ];
  const keys = [ns, ...volumes];
  return words.some((w) => keys.some((k) => w.includes(k)));
}

/**
 * Cordons and taints a node has now that it did not have when the case began. Without that
 * baseline, any cordon and any node.kubernetes.io taint counts (volcert's clusters have none).
 */
export function newMarks(before: NodeMarks | undefined, now: NodeMarks): string[] {
  const out: string[] = [];
  if (now.unschedulable && !before?.unschedulable) out.push("left cordoned");
  for (const t of now.taints) {
    const added = before ? !before.taints.includes(t) : t.startsWith("node.kubernetes.io/");
    if (added) out.push(`left tainted ${t}`);
  }
  return out;
}

/**
 * Waits (named, bounded) until the check finds nothing: volumes are deleted, detached and
 * unmounted asynchronously after their claims and pods. Returns the last check; a timeout is not
 * thrown, the leftovers it saw are the result.
 */
export async function settleAndCheck(
  kube: Kube,
  access: NodeAccess,
  scope: LeakScope,
  timeoutMs: number,
): Promise<LeakReport> {
  let last: LeakReport | undefined;
  await waitFor(
    `leftovers of case ${scope.namespace} cleaned up`,
    async () => {
      last = await checkLeaks(kube, access, scope);
      const seen = [...last.leftovers.map((l) => l.what), ...last.probeFailures.map((f) => f.probe)];
      return { done: isClean(last), seen: seen.join("; ") || "nothing left" };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  ).catch((err: unknown) => {
    if (effectiveSignal()?.aborted) throw err;
  });
  return last ?? checkLeaks(kube, access, scope);
}
