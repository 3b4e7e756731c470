/**
 * Leak check after every case: nothing the case created may survive it. Looks in the API (the
 * namespace, PVs bound to its claims) and on every node (mounts of the case's pods under the
 * kubelet directory, loop devices whose backing file belongs to the case).
 */
import { exec } from "../core/exec.ts";
import type { NodeShell } from "../core/nodes.ts";
import { waitFor } from "../core/wait.ts";
import type { Kube } from "../k8s/kube.ts";
import { leftoverVolumeDirs, VOLUME_ROOT } from "../drivers/intree.ts";
import { mountsOfPod, readMounts } from "../nodes/mountinfo.ts";
import { presentPaths } from "../nodes/paths.ts";

export interface LeakScope {
  namespace: string;
  podUids: readonly string[];
  /** Backing directories of static volumes the case created start with this. */
  volumeDirPrefix?: string;
  /** Substrings identifying backing files of loop devices the case attached. */
  loopBackingMarkers?: readonly string[];
  /** Node paths of provisioned volumes' data (driver volumeDataPaths) that must be gone. */
  dataPaths?: readonly string[];
}

async function casePvs(kube: Kube, namespace: string): Promise<string[]> {
  return (await kube.list("PersistentVolume"))
    .map((pv) => ({ name: pv.metadata?.name ?? "", claimNs: pv.spec?.claimRef?.namespace }))
    .filter(({ name, claimNs }) => name && (claimNs === namespace || name.startsWith(`${namespace}-`)))
    .map(({ name }) => name);
}

/**
 * Waits (named, bounded) for the case's PVs and volume data to disappear: dynamic volumes are
 * deleted asynchronously after their claims. A timeout is not thrown: findLeaks reports what is left.
 */
export async function settleVolumes(
  kube: Kube,
  nodes: NodeShell,
  namespace: string,
  dataPaths: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `volumes of case ${namespace} deleted`,
    async () => {
      const left = [
        ...(await casePvs(kube, namespace)).map((pv) => `PV ${pv}`),
        ...(await presentPaths(nodes, dataPaths)),
      ];
      return { done: left.length === 0, seen: left.join(", ") || "none left" };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  ).catch(() => undefined);
}

export async function findLeaks(kube: Kube, nodes: NodeShell, scope: LeakScope): Promise<string[]> {
  const leaks: string[] = [];
  if (await kube.readIfExists("Namespace", scope.namespace)) leaks.push(`namespace ${scope.namespace} still exists`);
  for (const pv of await casePvs(kube, scope.namespace))
    leaks.push(`PersistentVolume ${pv} (case ${scope.namespace}) still exists`);
  for (const p of await presentPaths(nodes, scope.dataPaths ?? [])) leaks.push(`volume data left behind on ${p}`);
  for (const node of await nodes.nodes()) {
    if (scope.volumeDirPrefix) {
      for (const d of await leftoverVolumeDirs(nodes, node, scope.volumeDirPrefix))
        leaks.push(`${node}: volume directory ${VOLUME_ROOT}/${d} left behind`);
    }
    if (scope.podUids.length) {
      const mounts = await readMounts(nodes, node);
      for (const uid of scope.podUids)
        for (const m of mountsOfPod(mounts, uid))
          leaks.push(`${node}: mount of pod ${uid} left behind: ${m.mountPoint}`);
    }
  }
  if (scope.loopBackingMarkers?.length) {
    const loops = await exec("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { nothrow: true });
    for (const line of loops.stdout.split("\n")) {
      if (scope.loopBackingMarkers.some((m) => line.includes(m)))
        leaks.push(`loop device left attached: ${line.trim()}`);
    }
  }
  return leaks;
}
