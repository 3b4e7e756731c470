/**
 * CSI installer: applies the driver's manifests with image references rewritten to local images,
 * loads those images into every node (no registry exists here), waits for the node plugin (and the
 * controller, if any) to be ready and registered on every node (CSINode), then creates the
 * driver's StorageClasses. Every problem it can see before touching the cluster is a ConfigError.
 */
import { ConfigError, DriverDefect, InfraError } from "../core/errors.ts";
import { say } from "../core/progress.ts";
import { Verdict, waitFor } from "../core/wait.ts";
import { latestEvent } from "../k8s/events.ts";
import type { Kube, V1DaemonSet, V1Deployment, V1StatefulSet, V1StorageClass } from "../k8s/kube.ts";
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
  const unused = unusedRewrites(objects, csi.imageRewrites);
  if (unused.length) {
    throw new ConfigError(
      `driver ${d.metadata.name}: csi.imageRewrites names images no manifest uses`,
      unused.map((i) => `${i} (check the spelling against the manifests' image: fields)`),
    );
  }
  const { images, rewritten } = rewriteImages(objects, csi.imageRewrites);
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

  const workloads = [csi.node, csi.controller].filter((w) => w !== undefined);
  // On a reused cluster the driver may already run, from images just replaced under the same tag.
  const running = [];
  for (const w of workloads) if (await t.kube.readIfExists(w.kind, w.name, w.namespace)) running.push(w);
  for (const o of objects) await t.kube.apply(o);
  for (const w of running) {
    say(`  ${d.metadata.name}: restarting ${w.kind} ${w.namespace}/${w.name} to pick up the loaded images`);
    // What `kubectl rollout restart` does: a new pod template, so every pod is replaced.
    await t.kube.mergePatch(w.kind, w.name, w.namespace, {
      spec: {
        template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } },
      },
    });
  }
  const timeoutMs = driverTimeout(d, "install");
  for (const w of workloads) await waitForWorkload(t.kube, w, timeoutMs);
  await waitForCsiNodes(t.kube, csi.driverName, timeoutMs);
  for (const sc of d.spec.storageClasses) await t.kube.apply(storageClassManifest(sc, d));
  return { objects };
}

/**
 * Deletes the driver's StorageClasses and objects (in reverse order) and waits until they are
 * gone. Every object is tried even if one fails; the failures are thrown together at the end.
 */
export async function uninstallCsi(d: DriverFile, install: CsiInstall, kube: Kube): Promise<void> {
  const failures: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) =>
    fn().catch((err: unknown) => failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`));
  for (const sc of d.spec.storageClasses)
    await attempt(`StorageClass ${sc.name}`, () => kube.deleteIfExists("StorageClass", sc.name));
  const items = [...install.objects].reverse();
  for (const o of items) await attempt(`${o.kind} ${o.metadata?.name}`, () => kube.deleteObjectIfExists(o));
  await attempt("wait", () =>
    waitFor(
      `objects of driver ${d.metadata.name} deleted`,
      async () => {
        const left = [];
        for (const o of items) if (await kube.readObjectIfExists(o)) left.push(`${o.kind} ${o.metadata?.name}`);
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

async function waitForWorkload(
  kube: Kube,
  w: { kind: "Deployment" | "StatefulSet" | "DaemonSet"; name: string; namespace: string },
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `${w.kind} ${w.namespace}/${w.name} ready`,
    async () => {
      const o = await kube.readIfExists(w.kind, w.name, w.namespace);
      if (!o) return { done: false, seen: "not found" };
      const pods = async () => {
        const states = await podStates(kube, w.namespace);
        return states === "no pods"
          ? `no pods; last event: ${(await latestEvent(kube, w.namespace, w.kind, w.name)) || "none"}`
          : states;
      };
      // A container that keeps crashing will not become ready by waiting longer: say so now.
      const looping = await crashLoops(kube, w.namespace);
      if (looping.length) {
        throw new Verdict(
          new DriverDefect(`${w.kind} ${w.namespace}/${w.name}: containers crash-loop: ${looping.join("; ")}`),
        );
      }
      if ((o.status?.observedGeneration ?? 0) < (o.metadata?.generation ?? 0))
        return { done: false, seen: "controller has not observed the latest spec yet" };
      if (w.kind === "DaemonSet") {
        const s = (o as V1DaemonSet).status ?? { desiredNumberScheduled: 0, numberReady: 0, updatedNumberScheduled: 0 };
        const want = s.desiredNumberScheduled ?? 0;
        const done = want > 0 && s.numberReady === want && s.updatedNumberScheduled === want;
        return { done, seen: `${s.numberReady ?? 0}/${want} pods ready${done ? "" : `; ${await pods()}`}` };
      }
      const s = (o as V1Deployment | V1StatefulSet).status;
      const want = (o as V1Deployment | V1StatefulSet).spec?.replicas ?? 1;
      const done = (s?.readyReplicas ?? 0) >= want;
      return { done, seen: `${s?.readyReplicas ?? 0}/${want} replicas ready${done ? "" : `; ${await pods()}`}` };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  );
}

/** Restarts after which a container in CrashLoopBackOff is taken as never going to start. */
const CRASH_LOOP_RESTARTS = 3;

/** "pod/container (N restarts, last exit code X)" for every container crash-looping in the namespace. */
async function crashLoops(kube: Kube, namespace: string): Promise<string[]> {
  const pods = (await kube.core.listNamespacedPod({ namespace })).items;
  return pods.flatMap((p) =>
    (p.status?.containerStatuses ?? [])
      .filter(
        (c) =>
          (c.restartCount ?? 0) >= CRASH_LOOP_RESTARTS &&
          (c.state?.waiting?.reason === "CrashLoopBackOff" || (c.state?.terminated?.exitCode ?? 0) !== 0),
      )
      .map(
        (c) =>
          `${p.metadata?.name}/${c.name} on ${p.spec?.nodeName ?? "?"} (${c.restartCount} restarts, last exit code ${c.state?.terminated?.exitCode ?? c.lastState?.terminated?.exitCode ?? "?"})`,
      ),
  );
}

/** "pod-a on node-1: hostpath waiting CrashLoopBackOff, ..." — what a timed-out wait reports. */
async function podStates(kube: Kube, namespace: string): Promise<string> {
  const pods = (await kube.core.listNamespacedPod({ namespace })).items;
  return (
    pods
      .map((p) => {
        const waiting = (p.status?.containerStatuses ?? [])
          .filter((c) => !c.ready)
          .map(
            (c) =>
              `${c.name} ${c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? "not ready"}${c.restartCount ? ` (${c.restartCount} restarts)` : ""}`,
          );
        return `${p.metadata?.name} on ${p.spec?.nodeName ?? "?"}: ${p.status?.phase}${waiting.length ? ` [${waiting.join(", ")}]` : ""}`;
      })
      .join("; ") || "no pods"
  );
}

/** The kubelet writes the driver into CSINode once the plugin registered on that node. */
async function waitForCsiNodes(kube: Kube, driverName: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `CSI driver ${driverName} registered on every node (CSINode)`,
    async () => {
      const nodes = (await kube.core.listNode()).items.map((n) => n.metadata?.name as string);
      const csiNodes = (await kube.storage.listCSINode()).items;
      const missing = nodes.filter(
        (n) => !csiNodes.find((c) => c.metadata?.name === n)?.spec.drivers.some((dr) => dr.name === driverName),
      );
      return { done: missing.length === 0, seen: missing.length ? `not registered on ${missing.join(", ")}` : "all" };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
  );
}
