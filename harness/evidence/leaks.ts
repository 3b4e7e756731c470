/**
 * Leak check after every case: nothing the case created may survive it. Looks in the API (the
 * namespace, PVs bound to its claims) and on every node (mounts of the case's pods under the
 * kubelet directory, loop devices whose backing file belongs to the case).
 */
import { exec } from "../core/exec.ts";
import type { Kube } from "../k8s/kube.ts";
import { leftoverVolumeDirs, VOLUME_ROOT } from "../drivers/intree.ts";
import { nodeContainers } from "./collect.ts";

export interface LeakScope {
  cluster: string;
  namespace: string;
  podUids: readonly string[];
  /** Backing directories of static volumes the case created start with this. */
  volumeDirPrefix?: string;
  /** Substrings identifying backing files of loop devices the case attached. */
  loopBackingMarkers?: readonly string[];
}

export async function findLeaks(kube: Kube, scope: LeakScope): Promise<string[]> {
  const leaks: string[] = [];
  const ns = await kube.kubectl(["get", "namespace", scope.namespace, "-o", "name"], { nothrow: true });
  if (ns.ok) leaks.push(`namespace ${scope.namespace} still exists`);
  const pvs = await kube.kubectl(["get", "pv", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.claimRef.namespace}{\"\\n\"}{end}"], { nothrow: true });
  for (const line of pvs.stdout.split("\n")) {
    const [pv, claimNs] = line.trim().split(" ");
    if (pv && (claimNs === scope.namespace || pv.startsWith(`${scope.namespace}-`))) leaks.push(`PersistentVolume ${pv} (case ${scope.namespace}) still exists`);
  }
  const nodes = await nodeContainers(scope.cluster);
  for (const node of nodes) {
    if (scope.volumeDirPrefix) {
      for (const d of await leftoverVolumeDirs(node, scope.volumeDirPrefix)) leaks.push(`${node}: volume directory ${VOLUME_ROOT}/${d} left behind`);
    }
    if (scope.podUids.length) {
      const mounts = await exec("docker", ["exec", node, "cat", "/proc/self/mountinfo"], { nothrow: true, timeoutMs: 30_000 });
      for (const uid of scope.podUids) {
        const hits = mounts.stdout.split("\n").filter((l) => l.includes(`/pods/${uid}/`));
        for (const h of hits) leaks.push(`${node}: mount of pod ${uid} left behind: ${h.split(" ")[4] ?? h}`);
      }
    }
  }
  if (scope.loopBackingMarkers?.length) {
    const loops = await exec("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { nothrow: true });
    for (const line of loops.stdout.split("\n")) {
      if (scope.loopBackingMarkers.some((m) => line.includes(m))) leaks.push(`loop device left attached: ${line.trim()}`);
    }
  }
  return leaks;
}
