/**
 * Is the cluster fit for the next case after a fault? All nodes Ready and schedulable as expected,
 * every DaemonSet and kube-system pod ready, no VolumeAttachment stuck. Problems are sorted by
 * whose they are: the driver under test's own workloads (its node plugin, its controller) and its
 * VolumeAttachments are the driver's; everything else is the cluster's. A named, bounded wait
 * that says what is still wrong when it gives up.
 */
import { InfraError } from "../core/errors.ts";
import { waitFor } from "../core/wait.ts";
import type { DriverFile } from "../drivers/schema.ts";
import { isNodeReady, isPodReady, type Kube } from "../k8s/kube.ts";

export interface ClusterHealth {
  infrastructure: string[];
  driver: string[];
}

/** What belongs to the driver under test in the cluster. */
export interface DriverFootprint {
  /** "namespace/name" of its workloads. */
  workloads: string[];
  /** Its CSI driver name (VolumeAttachment spec.attacher). */
  attacher?: string;
}

export function driverFootprint(d: DriverFile | undefined): DriverFootprint {
  const csi = d?.spec.csi;
  if (!csi) return { workloads: [] };
  const refs = [csi.node, csi.controller].filter((r) => r !== undefined);
  return { workloads: refs.map((r) => `${r.namespace}/${r.name}`), attacher: csi.driverName };
}

/**
 * A pod created by one of these workloads ("namespace/name"): owned by it directly (DaemonSet,
 * StatefulSet) or through a ReplicaSet named "<deployment>-<hash>".
 */
export function ownedBy(
  namespace: string,
  owners: readonly { kind: string; name: string }[] | undefined,
  workloads: readonly string[],
): boolean {
  return (owners ?? []).some((o) =>
    workloads.some((w) => {
      const [ns, name] = w.split("/");
      if (ns !== namespace) return false;
      return o.name === name || (o.kind === "ReplicaSet" && o.name.startsWith(`${name}-`));
    }),
  );
}

export async function clusterHealth(
  kube: Kube,
  expectedNodes: number,
  driver: DriverFootprint = { workloads: [] },
): Promise<ClusterHealth> {
  const infrastructure: string[] = [];
  const own: string[] = [];
  const nodes = (await kube.core.listNode()).items;
  if (nodes.length !== expectedNodes) infrastructure.push(`${nodes.length} nodes, expected ${expectedNodes}`);
  for (const n of nodes) {
    if (!isNodeReady(n)) infrastructure.push(`node ${n.metadata?.name} not Ready`);
    if (n.spec?.unschedulable) infrastructure.push(`node ${n.metadata?.name} cordoned`);
    const stray = (n.spec?.taints ?? []).filter((t) => t.key.startsWith("node.kubernetes.io/"));
    if (stray.length) infrastructure.push(`node ${n.metadata?.name} tainted ${stray.map((t) => t.key).join(",")}`);
  }
  for (const p of (await kube.core.listNamespacedPod({ namespace: "kube-system" })).items) {
    if (isPodReady(p) || p.status?.phase === "Succeeded") continue;
    const problem = `kube-system pod ${p.metadata?.name} not ready (${p.status?.phase})`;
    (ownedBy("kube-system", p.metadata?.ownerReferences, driver.workloads) ? own : infrastructure).push(problem);
  }
  for (const d of (await kube.apps.listDaemonSetForAllNamespaces()).items) {
    const ready = d.status?.numberReady ?? 0;
    const desired = d.status?.desiredNumberScheduled ?? 0;
    if (ready === desired) continue;
    const id = `${d.metadata?.namespace}/${d.metadata?.name}`;
    (driver.workloads.includes(id) ? own : infrastructure).push(`DaemonSet ${id} ${ready}/${desired} ready`);
  }
  for (const va of (await kube.storage.listVolumeAttachment()).items) {
    const err = va.status?.attachError?.message ?? va.status?.detachError?.message;
    if (!va.metadata?.deletionTimestamp && !err) continue;
    const problem = `VolumeAttachment ${va.metadata?.name} stuck${err ? `: ${err}` : " deleting"}`;
    (driver.attacher && va.spec.attacher === driver.attacher ? own : infrastructure).push(problem);
  }
  return { infrastructure, driver: own };
}

/**
 * Waits until the cluster is healthy. Returns what is still wrong when the wait gives up (the
 * caller decides whose failure it is); throws only when the state could not be observed at all.
 */
export async function waitForHealthyCluster(
  kube: Kube,
  expectedNodes: number,
  opts: { timeoutMs?: number; driver?: DriverFootprint } = {},
): Promise<ClusterHealth> {
  let last: ClusterHealth | undefined;
  try {
    await waitFor(
      "cluster healthy (nodes Ready, kube-system and DaemonSets ready, no stuck VolumeAttachment)",
      async () => {
        last = undefined; // a check that cannot observe leaves nothing to judge by
        last = await clusterHealth(kube, expectedNodes, opts.driver);
        const all = [...last.infrastructure, ...last.driver];
        return { done: all.length === 0, seen: all.join("; ") || "healthy" };
      },
      { timeoutMs: opts.timeoutMs ?? 4 * 60_000, intervalMs: 2000, blame: "infrastructure" },
    );
    return { infrastructure: [], driver: [] };
  } catch (err) {
    if (last && err instanceof InfraError) return last;
    throw err;
  }
}
