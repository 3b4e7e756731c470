/**
 * CSI installer: applies the driver's manifests with image references rewritten to local images,
 * loads those images into every node (no registry exists here), waits for the node plugin (and the
 * controller, if any) to be ready and registered on every node (CSINode), then creates the
 * driver's StorageClasses. Every problem it can see before touching the cluster is a ConfigError.
 */
import { ConfigError } from "../core/errors.ts";
import { exec } from "../core/exec.ts";
import { say } from "../core/progress.ts";
import { waitFor } from "../core/wait.ts";
import { latestEvent } from "../k8s/claims.ts";
import type { Kube } from "../k8s/kube.ts";
import { readManifests, rewriteImages, unusedRewrites, type K8sObject } from "./csi-manifests.ts";
import type { DriverFile, StorageClassDef } from "./schema.ts";
import { driverTimeout } from "./timeouts.ts";

export interface CsiTarget {
  kube: Kube;
  nodes: readonly string[];
  /** Copies local Docker images into every node's containerd. */
  loadImages(images: readonly string[]): Promise<void>;
}

export interface CsiInstall {
  objects: K8sObject[];
}

export async function installCsi(d: DriverFile, baseDir: string, t: CsiTarget): Promise<CsiInstall> {
  const csi = d.spec.csi;
  if (!csi) throw new ConfigError(`driver ${d.metadata.name} has no spec.csi section`);
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
  const missing: string[] = [];
  for (const image of images) {
    const r = await exec("docker", ["image", "inspect", "--format", "{{.Id}}", image], {
      nothrow: true,
      timeoutMs: 30_000,
    });
    if (!r.ok) missing.push(image);
  }
  if (missing.length) {
    throw new ConfigError(
      `driver ${d.metadata.name} needs images that are not in the local Docker engine (this machine has no registry)`,
      missing,
      {
        fix: "build volcert's images (volcert images build), load or build your driver's images locally, or map them with csi.imageRewrites",
      },
    );
  }
  say(`  ${d.metadata.name}: loading ${images.length} image(s) into ${t.nodes.length} node(s)`);
  await t.loadImages(images);

  const workloads = [csi.node, ...(csi.controller ? [csi.controller] : [])];
  // On a reused cluster the driver may already run, from images just replaced under the same tag.
  const running = [];
  for (const w of workloads)
    if (
      (await t.kube.kubectl(["get", w.kind.toLowerCase(), w.name, "-n", w.namespace, "-o", "name"], { nothrow: true }))
        .ok
    )
      running.push(w);
  await t.kube.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    timeoutMs: 120_000,
  });
  for (const w of running) {
    say(`  ${d.metadata.name}: restarting ${w.kind} ${w.namespace}/${w.name} to pick up the loaded images`);
    await t.kube.kubectl(["rollout", "restart", w.kind.toLowerCase(), w.name, "-n", w.namespace]);
  }
  const timeoutMs = driverTimeout(d, "install");
  for (const w of workloads) await waitForWorkload(t.kube, w, timeoutMs);
  await waitForCsiNodes(t.kube, csi.driverName, timeoutMs);
  for (const sc of d.spec.storageClasses)
    await t.kube.kubectl(["apply", "-f", "-"], { input: JSON.stringify(storageClassManifest(sc, d)) });
  return { objects };
}

export async function uninstallCsi(d: DriverFile, install: CsiInstall, kube: Kube): Promise<void> {
  for (const sc of d.spec.storageClasses)
    await kube.kubectl(["delete", "storageclass", sc.name, "--ignore-not-found"], { nothrow: true });
  const items = [...install.objects].reverse();
  await kube.kubectl(["delete", "--ignore-not-found", "--wait=true", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    nothrow: true,
    timeoutMs: driverTimeout(d, "install"),
  });
}

export function storageClassManifest(
  sc: StorageClassDef,
  d: DriverFile,
  overrides: Partial<StorageClassDef> = {},
): Record<string, unknown> {
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

interface WorkloadStatus {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
    readyReplicas?: number;
    replicas?: number;
  };
  spec?: { replicas?: number };
}

async function waitForWorkload(
  kube: Kube,
  w: { kind: string; name: string; namespace: string },
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `${w.kind} ${w.namespace}/${w.name} ready`,
    async () => {
      const r = await kube.kubectl(["get", w.kind.toLowerCase(), w.name, "-n", w.namespace, "-o", "json"], {
        nothrow: true,
      });
      if (!r.ok) return { done: false, seen: r.stderr.trim() };
      const pods = async () => {
        const states = await podStates(kube, w.namespace);
        return states === "no pods"
          ? `no pods; last event: ${(await latestEvent(kube, w.namespace, w.kind, w.name)) || "none"}`
          : states;
      };
      const o = JSON.parse(r.stdout) as WorkloadStatus;
      const s = o.status ?? {};
      if ((s.observedGeneration ?? 0) < (o.metadata?.generation ?? 0))
        return { done: false, seen: "controller has not observed the latest spec yet" };
      if (w.kind === "DaemonSet") {
        const want = s.desiredNumberScheduled ?? 0;
        const done = want > 0 && s.numberReady === want && s.updatedNumberScheduled === want;
        return { done, seen: `${s.numberReady ?? 0}/${want} pods ready${done ? "" : `; ${await pods()}`}` };
      }
      const want = o.spec?.replicas ?? 1;
      const done = (s.readyReplicas ?? 0) >= want;
      return { done, seen: `${s.readyReplicas ?? 0}/${want} replicas ready${done ? "" : `; ${await pods()}`}` };
    },
    { timeoutMs, intervalMs: 2000, blame: "driver" },
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
