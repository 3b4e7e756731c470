/**
 * What the drivers installed in one cluster need from it beyond Kubernetes (spec.cluster): the
 * union over those drivers, each need with the drivers asking for it (for messages). The CLI turns
 * it into the cluster's shape (shared storage) and the components it installs before the drivers
 * (the VolumeSnapshot API), and into the build steps those need.
 */
import type { DriverFile } from "./schema.ts";

export interface ClusterNeeds {
  /** Drivers whose backend is storage every node shares (spec.cluster.sharedStorage). */
  sharedStorage: string[];
  /** Drivers that need the VolumeSnapshot API (spec.cluster.volumeSnapshots). */
  volumeSnapshots: string[];
}

export function clusterNeeds(drivers: readonly DriverFile[]): ClusterNeeds {
  const asking = (key: keyof DriverFile["spec"]["cluster"]) =>
    drivers.filter((d) => d.spec.cluster[key] === true).map((d) => d.metadata.name);
  return { sharedStorage: asking("sharedStorage"), volumeSnapshots: asking("volumeSnapshots") };
}

/** What each need is, for progress lines ("csi-netstore needs shared storage on every node"). */
export const NEED_TITLES: Record<keyof ClusterNeeds, string> = {
  sharedStorage: "shared storage on every node (a host directory of the cluster's own)",
  volumeSnapshots: "the VolumeSnapshot API (CRDs and snapshot-controller, installed before the drivers)",
};
