/**
 * Leak check after every case: nothing the case created may survive it. Looks in the API (the
 * namespace, PVs bound to its claims) and on every node (mounts of the case's pods under the
 * kubelet directory, loop devices whose backing file belongs to the case).
 */
import { exec } from "../core/exec.ts";
import { waitFor } from "../core/wait.ts";
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
  /** Node paths of provisioned volumes' data (driver volumeDataPaths) that must be gone. */
  dataPaths?: readonly string[];
}

async function casePvs(kube: Kube, namespace: string): Promise<string[]> {
  const pvs = await kube.kubectl(
    ["get", "pv", "-o", 'jsonpath={range .items[*]}{.metadata.name} {.spec.claimRef.namespace}{"\\n"}{end}'],
    { nothrow: true },
  );
  return pvs.stdout
    .split("\n")
    .map((l) => l.trim().split(" "))
    .filter(([pv, claimNs]) => pv && (claimNs === namespace || pv.startsWith(`${namespace}-`)))
    .map(([pv]) => pv as string);
}

/** "node: path" for every node where one of the paths exists. */
export async function presentPaths(cluster: string, paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  if (!paths.length) return found;
  for (const node of await nodeContainers(cluster)) {
    const r = await exec(
      "docker",
      ["exec", node, "sh", "-c", 'for p; do [ -e "$p" ] && echo "$p"; done; true', "sh", ...paths],
      { nothrow: true, timeoutMs: 30_000 },
    );
    for (const p of r.stdout.split("\n").filter(Boolean)) found.push(`${node}: ${p}`);
  }
  return found;
}

/**
 * Waits (named, bounded) for the case's PVs and volume data to disappear: dynamic volumes are
 * deleted asynchronously after their claims. A timeout is not thrown: findLeaks reports what is left.
 */
export async function settleVolumes(
  kube: Kube,
  namespace: string,
  cluster: string,
  dataPaths: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `volumes of case ${namespace} deleted`,
    async () => {
      const left = [
        ...(await casePvs(kube, namespace)).map((pv) => `PV ${pv}`),
        ...(await presentPaths(cluster, dataPaths)),
      ];
      return { done: left.length === 0, seen: left.join(", ") || "none left" };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  ).catch(() => undefined);
}

export async function findLeaks(kube: Kube, scope: LeakScope): Promise<string[]> {
  const leaks: string[] = [];
  const ns = await kube.kubectl(["get", "namespace", scope.namespace, "-o", "name"], { nothrow: true });
  if (ns.ok) leaks.push(`namespace ${scope.namespace} still exists`);
  for (const pv of await casePvs(kube, scope.namespace))
    leaks.push(`PersistentVolume ${pv} (case ${scope.namespace}) still exists`);
  for (const p of await presentPaths(scope.cluster, scope.dataPaths ?? []))
    leaks.push(`volume data left behind on ${p}`);
  const nodes = await nodeContainers(scope.cluster);
  for (const node of nodes) {
    if (scope.volumeDirPrefix) {
      for (const d of await leftoverVolumeDirs(node, scope.volumeDirPrefix))
        leaks.push(`${node}: volume directory ${VOLUME_ROOT}/${d} left behind`);
    }
    if (scope.podUids.length) {
      const mounts = await exec("docker", ["exec", node, "cat", "/proc/self/mountinfo"], {
        nothrow: true,
        timeoutMs: 30_000,
      });
      for (const uid of scope.podUids) {
        const hits = mounts.stdout.split("\n").filter((l) => l.includes(`/pods/${uid}/`));
        for (const h of hits) leaks.push(`${node}: mount of pod ${uid} left behind: ${h.split(" ")[4] ?? h}`);
      }
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
