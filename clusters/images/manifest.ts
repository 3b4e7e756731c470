/**
 * The version manifest (versions.yaml): read → parse → check, with every problem listed at once.
 * Everything the toolchain builds, and every cache key, derives from this one file.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "../../harness/core/errors.ts";

const tag = z.string().regex(/^v\d+\.\d+\.\d+$/, "expected a tag like v1.2.3");
const plain = z.string().regex(/^\d+\.\d+(\.\d+)?$/, "expected a version like 1.2.3");
/** Upstream release tags one of our own programs is offered under. */
const standInTags = z
  .array(tag)
  .min(1)
  .refine((tags) => new Set(tags).size === tags.length, "a tag is listed twice");

export const ManifestSchema = z
  .object({
    kind: tag,
    kubernetes: z
      .object({
        version: tag,
        gitCommit: z.string().regex(/^([0-9a-f]{40}|unknown)$/, 'expected a 40-hex commit or "unknown"'),
        buildDate: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "expected an RFC 3339 UTC time"),
      })
      .strict(),
    etcd: tag,
    coredns: tag,
    crictl: tag,
    pause: plain,
    helm: tag,
    debian: z.object({ suite: z.literal("bookworm"), mirror: z.string().url() }).strict(),
    csi: z
      .object({
        provisioner: tag,
        attacher: tag,
        resizer: tag,
        snapshotter: tag,
        standIns: z.object({ nodeDriverRegistrar: standInTags, livenessprobe: standInTags }).strict(),
      })
      .strict(),
    recyclerImage: z
      .string()
      .regex(
        /^registry\.k8s\.io\/build-image\/debian-base:[\w.-]+$/,
        "expected registry.k8s.io/build-image/debian-base:<tag>",
      ),
    volcert: z
      .object({ netd: plain, workload: plain, csiHostpath: plain, csiNetstore: plain, csiSidecars: plain })
      .strict(),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;

export const MANIFEST_PATH = fileURLToPath(new URL("./versions.yaml", import.meta.url));

export function parseManifest(text: string, source = "versions.yaml"): Manifest {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid YAML`, [(err as Error).message]);
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(
      `${source} is invalid`,
      r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  }
  const minor = r.data.kubernetes.version.split(".")[1];
  if (minor !== "34") {
    throw new ConfigError(`${source} is invalid`, [
      `kubernetes.version: ${r.data.kubernetes.version} is not a 1.34 patch (1.35+ kubelets refuse cgroup v1 hosts)`,
    ]);
  }
  return r.data;
}

export function loadManifest(path = MANIFEST_PATH): Manifest {
  return parseManifest(readFileSync(path, "utf8"), path);
}

/** "v1.34.10" → "v0.34.10": the tag of the staging modules (k8s.io/api, ...) of a release. */
export function stagingVersion(kubernetesVersion: string): string {
  return kubernetesVersion.replace(/^v1\./, "v0.");
}

export interface ImageNames {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubeProxy: string;
  etcd: string;
  coredns: string;
  pause: string;
  netd: string;
  workload: string;
  csiProvisioner: string;
  csiAttacher: string;
  csiResizer: string;
  csiSnapshotter: string;
  snapshotController: string;
  csiNodeDriverRegistrar: string;
  livenessprobe: string;
  csiHostpath: string;
  csiNetstore: string;
  runtimeBase: string;
  nodeRootfs: string;
  nodeBase: string;
  node: string;
  /** The node image with the reference drivers' images preloaded (driverPreloads). */
  nodeDrivers: string;
}

/**
 * The names volcert gives its images in the host's Docker engine: all under `volcert/`, so a
 * locally built image never shadows a real upstream one on the host. The node image's containerd
 * also knows the control-plane images by their upstream names (upstreamNames).
 */
export function imageNames(m: Manifest): ImageNames {
  const k = m.kubernetes.version;
  return {
    kubeApiserver: `volcert/kube-apiserver:${k}`,
    kubeControllerManager: `volcert/kube-controller-manager:${k}`,
    kubeScheduler: `volcert/kube-scheduler:${k}`,
    kubeProxy: `volcert/kube-proxy:${k}`,
    etcd: `volcert/etcd:${m.etcd.slice(1)}-0`,
    coredns: `volcert/coredns:${m.coredns}`,
    pause: `volcert/pause:${m.pause}`,
    netd: `volcert/netd:${m.volcert.netd}`,
    workload: `volcert/workload:${m.volcert.workload}`,
    csiProvisioner: `volcert/csi-provisioner:${m.csi.provisioner}`,
    csiAttacher: `volcert/csi-attacher:${m.csi.attacher}`,
    csiResizer: `volcert/csi-resizer:${m.csi.resizer}`,
    csiSnapshotter: `volcert/csi-snapshotter:${m.csi.snapshotter}`,
    snapshotController: `volcert/snapshot-controller:${m.csi.snapshotter}`,
    csiNodeDriverRegistrar: `volcert/csi-node-driver-registrar:${m.volcert.csiSidecars}`,
    livenessprobe: `volcert/livenessprobe:${m.volcert.csiSidecars}`,
    csiHostpath: `volcert/csi-hostpath:${m.volcert.csiHostpath}`,
    csiNetstore: `volcert/csi-netstore:${m.volcert.csiNetstore}`,
    runtimeBase: `volcert/runtime:${m.debian.suite}`,
    nodeRootfs: `volcert/node-rootfs:${m.debian.suite}`,
    nodeBase: `volcert/node-base:${m.debian.suite}`,
    node: `volcert/node:${k}`,
    nodeDrivers: `volcert/node-drivers:${k}`,
  };
}

/**
 * Names exactly as kubeadm (and containerd's sandbox_image) look them up inside the node: the
 * node image tags each host image (imageNames) with its upstream name, there and only there.
 */
export function upstreamNames(m: Manifest): Record<UpstreamNamed, string> {
  const k = m.kubernetes.version;
  return {
    kubeApiserver: `registry.k8s.io/kube-apiserver:${k}`,
    kubeControllerManager: `registry.k8s.io/kube-controller-manager:${k}`,
    kubeScheduler: `registry.k8s.io/kube-scheduler:${k}`,
    kubeProxy: `registry.k8s.io/kube-proxy:${k}`,
    etcd: `registry.k8s.io/etcd:${m.etcd.slice(1)}-0`,
    coredns: `registry.k8s.io/coredns/coredns:${m.coredns}`,
    pause: `registry.k8s.io/pause:${m.pause}`,
  };
}

export type UpstreamNamed =
  "kubeApiserver" | "kubeControllerManager" | "kubeScheduler" | "kubeProxy" | "etcd" | "coredns" | "pause";

/** Host image → the upstream name the node image's containerd also gives it. */
export function inNodeAliases(m: Manifest): { local: string; upstream: string }[] {
  const n = imageNames(m);
  const u = upstreamNames(m);
  return (Object.keys(u) as UpstreamNamed[]).map((k) => ({ local: n[k], upstream: u[k] }));
}

/** Images preloaded into the node image's containerd (k8s.io namespace), by their host names. */
export function preloadedImages(m: Manifest): string[] {
  const n = imageNames(m);
  return [
    n.kubeApiserver,
    n.kubeControllerManager,
    n.kubeScheduler,
    n.kubeProxy,
    n.etcd,
    n.coredns,
    n.pause,
    n.netd,
    n.workload,
  ];
}

/**
 * The reference CSI drivers' images (csi-hostpath, csi-netstore, the sidecars they run, the
 * VolumeSnapshot API's controller), which the node image variant nodeDrivers has preloaded. Not
 * in the node image itself: a driver image is what a vendor swaps, and rebuilding one must not
 * rebuild the node.
 */
export function driverPreloads(m: Manifest): string[] {
  const n = imageNames(m);
  return [
    n.csiProvisioner,
    n.csiHostpath,
    n.csiNetstore,
    n.csiAttacher,
    n.csiResizer,
    n.csiSnapshotter,
    n.snapshotController,
  ];
}

/**
 * Checks the images kubeadm says it needs (`kubeadm config images list` output) against what we
 * build. kubeadm's own pause line is ignored: containerd's sandbox_image decides the pause image.
 * Returns the problems; empty means consistent.
 */
export function checkKubeadmImages(m: Manifest, kubeadmOutput: string): string[] {
  const built = new Set(Object.values(upstreamNames(m)));
  return kubeadmOutput
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("registry.k8s.io/pause:"))
    .filter((l) => !built.has(l))
    .map(
      (l) =>
        `kubeadm ${m.kubernetes.version} needs ${l}, which versions.yaml does not build (update etcd/coredns there)`,
    );
}
