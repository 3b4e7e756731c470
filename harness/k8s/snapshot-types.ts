/**
 * The VolumeSnapshot API's objects (snapshot.storage.k8s.io/v1, external-snapshotter's CRDs), as
 * far as volcert reads and writes them. The client library has no models for CRDs.
 */
import type { KubernetesObject } from "@kubernetes/client-node";

export const SNAPSHOT_API = "snapshot.storage.k8s.io/v1";

export interface VolumeSnapshot extends KubernetesObject {
  spec: {
    source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
    volumeSnapshotClassName?: string;
  };
  status?: {
    readyToUse?: boolean;
    restoreSize?: string;
    boundVolumeSnapshotContentName?: string;
    creationTime?: string;
    error?: { message?: string; time?: string };
  };
}

export interface VolumeSnapshotContent extends KubernetesObject {
  spec: {
    deletionPolicy: "Delete" | "Retain";
    driver: string;
    source: { volumeHandle?: string; snapshotHandle?: string };
    volumeSnapshotRef: { name?: string; namespace?: string; uid?: string };
    volumeSnapshotClassName?: string;
  };
  status?: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number; error?: { message?: string } };
}

export interface VolumeSnapshotClass extends KubernetesObject {
  driver: string;
  deletionPolicy: "Delete" | "Retain";
  parameters?: Record<string, string>;
}
