/**
 * CSI installer: applies the driver's manifests with image references rewritten to local images,
 * loads those images into every node (no registry exists here), waits for the node plugin (and the
 * controller, if any) to be ready and registered on every node (CSINode), then creates the
 * driver's StorageClasses. Every problem it can see before touching the cluster is a ConfigError.
 * The Helm installer (helm.ts) shares the images, readiness and removal steps.
 */
import { ConfigError, InfraError } from "../core/errors.ts";
import { say } from "../core/progress.ts";
import { waitFor } from "../core/wait.ts";
import { apiStatus } from "../k8s/api-errors.ts";
import type { Kube, V1StorageClass } from "../k8s/kube.ts";
import { waitForCsiNodes, waitForWorkload, type WorkloadRef } from "./csi-ready.ts";
import { effectiveRewrites, type ImageTable } from "./builtin-images.ts";
import { readManifests, rewriteImages, unusedRewrites, type K8sObject } from "./csi-manifests.ts";
import type { DriverFile, StorageClassDef } from "./schema.ts";
import { driverTimeout } from "./timeouts.ts";

export interface CsiTarget {
  kube: Kube;
  /** Makes local images available on every node (there is no registry). */
  loadImages(images: readonly string[]): Promise<void>;
  /**
   * The images loadImages cannot provide (kind: not in the local Docker engine). Optional only
   * until the CLI passes it; without it the check is left to loadImages.
   */
  missingImages?(images: readonly string[]): Promise<string[]>;
  /**
   * The sidecars volcert builds, upstream reference → local image (builtin-images.ts), applied
   * to the images the driver's own csi.imageRewrites leave alone.
   */
  builtinRewrites?: ImageTable;
}

export interface CsiInstall {
  objects: K8sObject[];
}

export async function installCsi(d: DriverFile, baseDir: string, t: CsiTarget): Promise<CsiInstall> {
  const csi = d.spec.csi;
  if (!csi) throw new ConfigError(`driver ${d.metadata.name} has no spec.csi section`);
  if (!csi.manifests.length)
    throw new ConfigError(`driver ${d.metadata.name} lists no manifests: it describes a driver already installed`);
  const objects = await readManifests(d, baseDir);
  await loadDriverImages(d, objects, t);
  const running = await runningWorkloads(d, t.kube);
  for (const o of objects) await t.kube.apply(o);
  await finishCsiInstall(d, t.kube, running);
  return { objects };
}

/**
 * Rewrites the objects' images in place (csi.imageRewrites, then the built-in rewrites; pull
 * policy IfNotPresent), checks that every image is on this machine, and loads them into the nodes.
 */
export async function loadDriverImages(d: DriverFile, objects: K8sObject[], t: CsiTarget): Promise<void> {
  const rewrites = d.spec.csi?.imageRewrites ?? {};
  const unused = unusedRewrites(objects, rewrites);
  if (unused.length) {
    throw new ConfigError(
      `driver ${d.metadata.name}: csi.imageRewrites names images no manifest uses`,
      unused.map((i) => `${i} (check the spelling against the manifests' image: fields)`),
    );
  }
  const { images, rewritten } = rewriteImages(
    objects,
    effectiveRewrites(objects, rewrites, t.builtinRewrites).rewrites,
  );
  for (const r of rewritten) say(`  ${d.metadata.name}: ${r}`);
  const missing = (await t.missingImages?.(images)) ?? [];
  if (missing.length) {
    throw new ConfigError(
      `driver ${d.metadata.name} needs images that are not on this machine (it has no registry)`,
      missing,
      {
        fix: "build volcert's images (volcert images build), load or build your driver's images locally, or map them with csi.imageRewrites",
      },
    );
  }
  say(`  ${d.metadata.name}: loading ${images.length} image(s) into the nodes`);
  await t.loadImages(images);
}

function workloadsOf(d: DriverFile): WorkloadRef[] {
  return [d.spec.csi?.node, d.spec.csi?.controller].filter((w) => w !== undefined);
}

/** The driver's workloads that exist already (a reused cluster), read before installing. */
export async function runningWorkloads(d: DriverFile, kube: Kube): Promise<WorkloadRef[]> {
  const running = [];
  for (const w of workloadsOf(d)) if (await kube.readIfExists(w.kind, w.name, w.namespace)) running.push(w);
  return running;
}

/**
 * After the driver's objects are in the cluster: restarts the workloads that ran before (their
 * images may just have been replaced under the same tag), waits until every workload is ready and
 * every node registered the driver, then creates the driver's StorageClasses.
 */
export async function finishCsiInstall(d: DriverFile, kube: Kube, running: readonly WorkloadRef[]): Promise<void> {
  const csi = d.spec.csi;
  if (!csi) throw new ConfigError(`driver ${d.metadata.name} has no spec.csi section`);
  for (const w of running) {
    say(`  ${d.metadata.name}: restarting ${w.kind} ${w.namespace}/${w.name} to pick up the loaded images`);
    // What `kubectl rollout restart` does: a new pod template, so every pod is replaced.
    await kube.mergePatch(w.kind, w.name, w.namespace, {
      spec: {
        template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } },
      },
    });
  }
  const timeoutMs = driverTimeout(d, "install");
  for (const w of workloadsOf(d)) await waitForWorkload(kube, w, timeoutMs);
  await waitForCsiNodes(kube, csi.driverName, timeoutMs);
  for (const sc of d.spec.storageClasses) await applyStorageClass(kube, storageClassManifest(sc, d));
}

/**
 * Applies a driver's StorageClass. Its parameters, provisioner, reclaim policy and binding mode
 * are immutable: a class volcert made in an earlier install of a changed driver file (a kept or
 * reused cluster) is replaced, not left stale; any other refusal stands.
 */
export async function applyStorageClass(kube: Kube, sc: V1StorageClass): Promise<void> {
  try {
    await kube.apply(sc);
  } catch (err) {
    if (apiStatus(err)?.code !== 422) throw err;
    const name = sc.metadata?.name ?? "";
    const existing = await kube.readIfExists("StorageClass", name);
    if (existing?.metadata?.labels?.["app.kubernetes.io/managed-by"] !== "volcert") throw err;
    say(`  StorageClass ${name}: fields that cannot change differ from the earlier install's; replacing it`);
    await kube.delete("StorageClass", name);
    await kube.apply(sc);
  }
}

/** Deletes the driver's StorageClasses and objects (in reverse order) and waits until they are gone. */
export async function uninstallCsi(d: DriverFile, install: CsiInstall, kube: Kube): Promise<void> {
  const items = [...install.objects].reverse();
  await removeDriver(d, kube, items, async (attempt) => {
    for (const o of items) await attempt(`${o.kind} ${o.metadata?.name}`, () => kube.deleteObjectIfExists(o));
  });
}

export type Attempt = (what: string, fn: () => Promise<unknown>) => Promise<unknown>;

/**
 * Deletes the driver's StorageClasses, then lets `remove` delete its objects, then waits until
 * every object of `gone` is gone. Every step is tried even if one fails; the failures are thrown
 * together at the end.
 */
export async function removeDriver(
  d: DriverFile,
  kube: Kube,
  gone: readonly K8sObject[],
  remove: (attempt: Attempt) => Promise<void>,
): Promise<void> {
  const failures: string[] = [];
  const attempt: Attempt = async (what, fn) =>
    fn().catch((err: unknown) => failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`));
  for (const sc of d.spec.storageClasses)
    await attempt(`StorageClass ${sc.name}`, () => kube.deleteIfExists("StorageClass", sc.name));
  await remove(attempt);
  await attempt("wait", () =>
    waitFor(
      `objects of driver ${d.metadata.name} deleted`,
      async () => {
        const left = [];
        for (const o of gone) if (await kube.readObjectIfExists(o)) left.push(`${o.kind} ${o.metadata?.name}`);
        return { done: left.length === 0, seen: left.length ? `still there: ${left.join(", ")}` : "all gone" };
      },
      { timeoutMs: driverTimeout(d, "install"), intervalMs: 2000, blame: "infrastructure" },
    ),
  );
  if (failures.length)
    throw new InfraError(
      `uninstalling driver ${d.metadata.name} left work undone:\n${failures.map((f) => `  - ${f}`).join("\n")}`,
    );
}

export function storageClassManifest(
  sc: StorageClassDef,
  d: DriverFile,
  overrides: Partial<StorageClassDef> = {},
): V1StorageClass {
  const s = { ...sc, ...overrides };
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: s.name,
      labels: { "app.kubernetes.io/managed-by": "volcert", "volcert.io/driver": d.metadata.name },
    },
    provisioner: s.provisioner,
    // Omitted when empty: the API stores {} as absent, and parameters are immutable on re-apply.
    ...(Object.keys(s.parameters).length ? { parameters: s.parameters } : {}),
    reclaimPolicy: s.reclaimPolicy,
    volumeBindingMode: s.volumeBindingMode,
    allowVolumeExpansion: s.allowVolumeExpansion,
    ...(s.mountOptions.length ? { mountOptions: s.mountOptions } : {}),
  };
}
