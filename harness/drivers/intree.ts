/**
 * Static volumes for in-tree drivers: volcert plays the administrator. A backing directory is
 * created on a node (through the node shell), then a PersistentVolume points at it: `hostPath` (no node
 * affinity: the data is on one node but the scheduler does not know) or `local` (required node
 * affinity to that node). Each volume is disposable: deleting it removes the PV and the directory.
 */
import type { NodeShell } from "../core/nodes.ts";
import { waitFor } from "../core/wait.ts";
import { gone } from "../k8s/conditions.ts";
import type { Kube, V1PersistentVolume } from "../k8s/kube.ts";
import type { DriverFile } from "./schema.ts";

export const VOLUME_ROOT = "/var/lib/volcert-volumes";

export interface StaticVolumeSpec {
  name: string;
  node: string;
  capacity: string;
  storageClassName: string;
  accessModes?: string[];
  volumeMode?: "Filesystem" | "Block";
  reclaimPolicy?: "Retain" | "Delete" | "Recycle";
  /** Pre-bind to this claim (namespace/name). */
  claimRef?: { namespace: string; name: string };
  labels?: Record<string, string>;
  /** Create the backing directory (false: LP-05, a path that does not exist). */
  createPath?: boolean;
}

export interface StaticVolume extends AsyncDisposable {
  pvName: string;
  node: string;
  path: string;
}

export function staticPvManifest(d: DriverFile, s: StaticVolumeSpec, path: string): V1PersistentVolume {
  const plugin = d.spec.inTree?.plugin ?? "hostPath";
  const flex = d.spec.flexVolume;
  const source = flex
    ? {
        flexVolume: {
          driver: flex.driver,
          fsType: d.spec.supportedFsTypes.find((f) => f) ?? "ext4",
          options: flex.options,
        },
      }
    : plugin === "local"
      ? {
          local: { path },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [s.node] }] },
              ],
            },
          },
        }
      : { hostPath: { path, type: "Directory" } };
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: s.name, labels: { "app.kubernetes.io/managed-by": "volcert", ...s.labels } },
    spec: {
      capacity: { storage: s.capacity },
      accessModes: s.accessModes ?? ["ReadWriteOnce"],
      volumeMode: s.volumeMode ?? "Filesystem",
      persistentVolumeReclaimPolicy: s.reclaimPolicy ?? "Retain",
      storageClassName: s.storageClassName,
      ...(s.claimRef ? { claimRef: { namespace: s.claimRef.namespace, name: s.claimRef.name } } : {}),
      ...source,
    },
  };
}

export async function createStaticVolume(
  kube: Kube,
  shell: NodeShell,
  d: DriverFile,
  s: StaticVolumeSpec,
): Promise<StaticVolume> {
  const path = `${VOLUME_ROOT}/${s.name}`;
  if (s.createPath !== false && !d.spec.flexVolume) {
    await shell.exec(s.node, ["mkdir", "-p", path], { timeoutMs: 30_000 });
    await shell.exec(s.node, ["chmod", "0777", path], { timeoutMs: 30_000 });
  }
  await kube.apply(staticPvManifest(d, s, path));
  return {
    pvName: s.name,
    node: s.node,
    path,
    async [Symbol.asyncDispose]() {
      // A PV still bound keeps its protection finalizer until the claim is gone; drop it, the case is over.
      await kube.deleteDroppingFinalizers("PersistentVolume", s.name);
      await waitFor(`PersistentVolume ${s.name} deleted`, gone(kube, "PersistentVolume", s.name), {
        timeoutMs: 60_000,
        intervalMs: 1000,
        blame: "infrastructure",
      });
      const paths = [path, ...(d.spec.flexVolume?.cleanupPaths ?? []).map((p) => p.replaceAll("{volume}", s.name))];
      await shell.exec(s.node, ["rm", "-rf", ...paths], { nothrow: true, timeoutMs: 60_000 });
    },
  };
}
