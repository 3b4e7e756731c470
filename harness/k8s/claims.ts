/**
 * PersistentVolumeClaim helpers: manifests and named waits that report the claim's phase and its
 * latest event when they time out.
 */
import { waitFor, type WaitOptions } from "../core/wait.ts";
import { claimPhase, claimState, gone, pvPhase, type ClaimState } from "./conditions.ts";
import type { Kube, V1PersistentVolumeClaim } from "./kube.ts";

export type { ClaimState };

export interface ClaimSpec {
  name: string;
  storageClassName: string;
  size: string;
  accessModes?: string[];
  volumeMode?: "Filesystem" | "Block";
  volumeName?: string;
  selector?: Record<string, string>;
  /** Populate the new volume from a VolumeSnapshot (restore) or another claim (clone). */
  dataSource?: { kind: "VolumeSnapshot" | "PersistentVolumeClaim"; name: string };
}

export function claimManifest(c: ClaimSpec): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: c.name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    spec: {
      storageClassName: c.storageClassName,
      accessModes: c.accessModes ?? ["ReadWriteOnce"],
      volumeMode: c.volumeMode ?? "Filesystem",
      resources: { requests: { storage: c.size } },
      ...(c.volumeName ? { volumeName: c.volumeName } : {}),
      ...(c.selector ? { selector: { matchLabels: c.selector } } : {}),
      ...(c.dataSource
        ? {
            dataSource: {
              kind: c.dataSource.kind,
              name: c.dataSource.name,
              ...(c.dataSource.kind === "VolumeSnapshot" ? { apiGroup: "snapshot.storage.k8s.io" } : {}),
            },
          }
        : {}),
    },
  };
}

export async function createClaim(kube: Kube, ns: string, c: ClaimSpec): Promise<void> {
  await kube.apply(claimManifest(c), ns);
}

export async function readClaim(kube: Kube, ns: string, name: string): Promise<ClaimState> {
  return claimState(await kube.read("PersistentVolumeClaim", name, ns));
}

export async function waitForClaimPhase(
  kube: Kube,
  ns: string,
  name: string,
  phase: string,
  opts: Partial<WaitOptions> & { timeoutMs: number },
): Promise<ClaimState> {
  return waitFor(`PVC ${ns}/${name} ${phase}`, claimPhase(kube, ns, name, phase), {
    intervalMs: 1000,
    blame: "driver",
    ...opts,
  });
}

/** Asks for the claim's deletion and waits (named, bounded, blaming the driver) until it is gone. */
export async function deleteClaimAndWait(kube: Kube, ns: string, name: string, timeoutMs: number): Promise<void> {
  await kube.delete("PersistentVolumeClaim", name, ns);
  await waitFor(`PVC ${ns}/${name} gone after deletion`, gone(kube, "PersistentVolumeClaim", name, ns), {
    timeoutMs,
    intervalMs: 1000,
    blame: "driver",
  });
}

export async function waitForPvPhase(kube: Kube, pv: string, phase: string, timeoutMs: number): Promise<void> {
  await waitFor(`PV ${pv} ${phase}`, pvPhase(kube, pv, phase), { timeoutMs, intervalMs: 1000, blame: "driver" });
}
