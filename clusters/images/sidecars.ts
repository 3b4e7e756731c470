/**
 * The CSI sidecars volcert builds, and the built-in image rewrite table derived from them: each
 * upstream reference a vendor's manifest names (registry.k8s.io/sig-storage/<name>:<tag>) → the
 * local image built from versions.yaml. Tags are never added to the Docker engine under upstream
 * names (that would shadow real images); the harness rewrites manifests instead. harness/ may not
 * import clusters/, so the CLI passes the table in as data (`builtinRewrites`).
 */
import { imageNames, type Manifest } from "./manifest.ts";

export const UPSTREAM_SIDECAR_REPOSITORY = "registry.k8s.io/sig-storage";

export interface OfferedSidecar {
  /** Upstream image name under registry.k8s.io/sig-storage. */
  name: string;
  /** The upstream tags it is offered under: the release built, or those our stand-in answers to. */
  tags: readonly string[];
  /** The local image. */
  image: string;
  /** The build step producing the image. */
  step: string;
  /** Where it comes from, for docs and messages. */
  source: string;
}

export function offeredSidecars(m: Manifest): OfferedSidecar[] {
  const n = imageNames(m);
  const built = (name: string, tag: string, image: string, step: string, source: string): OfferedSidecar => ({
    name,
    tags: [tag],
    image,
    step,
    source,
  });
  return [
    built("csi-provisioner", m.csi.provisioner, n.csiProvisioner, "image-csi", "external-provisioner"),
    built("csi-attacher", m.csi.attacher, n.csiAttacher, "image-csi-sidecars", "external-attacher"),
    built("csi-resizer", m.csi.resizer, n.csiResizer, "image-csi-sidecars", "external-resizer"),
    built("csi-snapshotter", m.csi.snapshotter, n.csiSnapshotter, "image-csi-sidecars", "external-snapshotter"),
    built("snapshot-controller", m.csi.snapshotter, n.snapshotController, "image-csi-sidecars", "external-snapshotter"),
    {
      name: "csi-node-driver-registrar",
      tags: m.csi.standIns.nodeDriverRegistrar,
      image: n.csiNodeDriverRegistrar,
      step: "image-volcert-sidecars",
      source: "volcert's compatible node-driver-registrar (clusters/images/csi-sidecars)",
    },
    {
      name: "livenessprobe",
      tags: m.csi.standIns.livenessprobe,
      image: n.livenessprobe,
      step: "image-volcert-sidecars",
      source: "volcert's compatible livenessprobe (clusters/images/csi-sidecars)",
    },
  ];
}

/** upstream reference → local image, for every tag offered. */
export function builtinImageRewrites(m: Manifest): Record<string, string> {
  const table: Record<string, string> = {};
  for (const s of offeredSidecars(m)) {
    for (const tag of s.tags) table[`${UPSTREAM_SIDECAR_REPOSITORY}/${s.name}:${tag}`] = s.image;
  }
  return table;
}
