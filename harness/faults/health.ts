/**
 * Is the cluster fit for the next case after a fault? All nodes Ready and schedulable as expected,
 * every DaemonSet and kube-system pod ready, no VolumeAttachment stuck. A named, bounded wait
 * that says what is still wrong when it gives up.
 */
import { waitFor } from "../core/wait.ts";
import { isNodeReady, isPodReady, type Kube } from "../k8s/kube.ts";

export async function clusterProblems(kube: Kube, expectedNodes: number): Promise<string[]> {
  const problems: string[] = [];
  const nodes = (await kube.core.listNode()).items;
  if (nodes.length !== expectedNodes) problems.push(`${nodes.length} nodes, expected ${expectedNodes}`);
  for (const n of nodes) {
    if (!isNodeReady(n)) problems.push(`node ${n.metadata?.name} not Ready`);
    if (n.spec?.unschedulable) problems.push(`node ${n.metadata?.name} cordoned`);
    const stray = (n.spec?.taints ?? []).filter((t) => t.key.startsWith("node.kubernetes.io/"));
    if (stray.length) problems.push(`node ${n.metadata?.name} tainted ${stray.map((t) => t.key).join(",")}`);
  }
  for (const p of (await kube.core.listNamespacedPod({ namespace: "kube-system" })).items) {
    if (!isPodReady(p)) problems.push(`kube-system pod ${p.metadata?.name} not ready (${p.status?.phase})`);
  }
  const ds = JSON.parse((await kube.kubectl(["get", "daemonsets", "-A", "-o", "json"])).stdout) as {
    items: {
      metadata: { namespace: string; name: string };
      status: { desiredNumberScheduled: number; numberReady: number };
    }[];
  };
  for (const d of ds.items) {
    if (d.status.numberReady !== d.status.desiredNumberScheduled)
      problems.push(
        `DaemonSet ${d.metadata.namespace}/${d.metadata.name} ${d.status.numberReady}/${d.status.desiredNumberScheduled} ready`,
      );
  }
  for (const va of (await kube.storage.listVolumeAttachment()).items) {
    const err = va.status?.attachError?.message ?? va.status?.detachError?.message;
    if (va.metadata?.deletionTimestamp || err)
      problems.push(`VolumeAttachment ${va.metadata?.name} stuck${err ? `: ${err}` : " deleting"}`);
  }
  return problems;
}

export async function waitForHealthyCluster(kube: Kube, expectedNodes: number, timeoutMs = 4 * 60_000): Promise<void> {
  await waitFor(
    "cluster healthy (nodes Ready, kube-system and DaemonSets ready, no stuck VolumeAttachment)",
    async () => {
      const problems = await clusterProblems(kube, expectedNodes);
      return { done: problems.length === 0, seen: problems.join("; ") || "healthy" };
    },
    { timeoutMs, intervalMs: 2000, blame: "infrastructure" },
  );
}
