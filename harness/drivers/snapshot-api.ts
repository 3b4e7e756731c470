/**
 * Installs the VolumeSnapshot API into a cluster (spec.cluster.volumeSnapshots): the
 * snapshot.storage.k8s.io CRDs, then a snapshot-controller, before the drivers that need it. The
 * objects come from the CLI as data (clusters/images/snapshot-api.ts reads them from the image
 * build's output; harness/ does not import clusters/). It is the cluster's, not a driver's: it
 * stays for the cluster's life, so installing it again on a reused cluster is a server-side apply
 * that changes nothing. A cluster volcert did not create is never given it: it must serve the API
 * itself, and only its presence is checked.
 *
 * Its failures are infrastructure: the API is volcert's part of the cluster, not the driver's.
 */
import { ConfigError } from "../core/errors.ts";
import { say } from "../core/progress.ts";
import { waitFor } from "../core/wait.ts";
import type { Kube, Manifest } from "../k8s/kube.ts";

export interface SnapshotApiObjects {
  /** CustomResourceDefinitions, applied first and waited for (Established). */
  crds: Manifest[];
  /** The controller's RBAC and workload (one Deployment). */
  controller: Manifest[];
  /** The images the controller runs (loaded into the nodes). */
  images: string[];
}

export interface SnapshotApiTarget {
  kube: Kube;
  loadImages(images: readonly string[]): Promise<void>;
  missingImages?(images: readonly string[]): Promise<string[]>;
}

const TIMEOUT_MS = 5 * 60_000;

/** Whether a CRD object says it is served (condition Established True). */
export function crdEstablished(crd: Manifest | undefined): boolean {
  const conditions = (crd as { status?: { conditions?: { type?: string; status?: string }[] } } | undefined)?.status
    ?.conditions;
  return (conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
}

/** The one Deployment among the controller's objects: what the install waits for. */
export function controllerWorkload(objects: readonly Manifest[]): { name: string; namespace: string } {
  const deployments = objects.filter((o) => o.kind === "Deployment");
  const d = deployments[0];
  if (deployments.length !== 1 || !d?.metadata?.name || !d.metadata.namespace)
    throw new ConfigError(`the VolumeSnapshot API's controller must be one namespaced Deployment`, [
      `found ${deployments.length} Deployment(s)`,
    ]);
  return { name: d.metadata.name, namespace: d.metadata.namespace };
}

export async function installSnapshotApi(api: SnapshotApiObjects, t: SnapshotApiTarget): Promise<void> {
  const workload = controllerWorkload(api.controller);
  const missing = (await t.missingImages?.(api.images)) ?? [];
  if (missing.length)
    throw new ConfigError("the VolumeSnapshot API needs images that are not on this machine", missing, {
      fix: "build them: volcert images build image-csi-sidecars snapshot-api",
    });
  for (const crd of api.crds) await t.kube.apply(crd);
  await waitForCrds(t.kube, api.crds);
  // After the CRDs, which need no image: a load started before (image-loads.ts) goes on meanwhile.
  say(`  VolumeSnapshot API: loading ${api.images.join(", ")} into the nodes`);
  await t.loadImages(api.images);
  for (const o of api.controller) await t.kube.apply(o);
  await waitFor(
    `snapshot-controller ${workload.namespace}/${workload.name} ready`,
    async () => {
      const d = await t.kube.readIfExists("Deployment", workload.name, workload.namespace);
      const ready = d?.status?.readyReplicas ?? 0;
      return { done: ready >= 1, seen: d ? `${ready} replica(s) ready` : "not found" };
    },
    { timeoutMs: TIMEOUT_MS, intervalMs: 2000, blame: "infrastructure" },
  );
}

async function waitForCrds(kube: Kube, crds: readonly Manifest[]): Promise<void> {
  await waitFor(
    `VolumeSnapshot CRDs established`,
    async () => {
      const pending = [];
      for (const crd of crds) if (!crdEstablished(await kube.readObjectIfExists(crd))) pending.push(crd.metadata?.name);
      return { done: !pending.length, seen: pending.length ? `not yet: ${pending.join(", ")}` : "all" };
    },
    { timeoutMs: TIMEOUT_MS, intervalMs: 1000, blame: "infrastructure" },
  );
}

/**
 * A cluster volcert did not create: the CRDs must be there already. Returns the missing ones
 * (the caller says so; the drivers' snapshot cases then fail or skip on their own terms).
 */
export async function missingSnapshotCrds(kube: Kube, crds: readonly Manifest[]): Promise<string[]> {
  const missing: string[] = [];
  for (const crd of crds)
    if (!crdEstablished(await kube.readObjectIfExists(crd))) missing.push(crd.metadata?.name ?? "?");
  return missing;
}
