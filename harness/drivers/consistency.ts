/**
 * Deep validation of a driver definition against the files it points at, before any Docker,
 * image or cluster work: manifests parse and are Kubernetes objects; the node (and controller)
 * workloads the definition names exist in them; the CSIDriver object carries the driver's name and
 * says what `csi.expect` says; StorageClasses provision with this driver; every image rewrite is
 * used; namespaced objects land in a namespace that exists. Every problem is collected, none
 * thrown early, so a vendor fixes them all in one go. Also lists the images the driver needs.
 * A Helm chart is checked as files here (helm-chart.ts); its rendered objects get the same
 * cross-checks at install time (helm.ts), when the helm binary is certain to be built.
 */
import { parseAllDocuments } from "yaml";
import { containedPath, readTextFile } from "./read.ts";
import { effectiveRewrites, sidecarVersionProblems, type ImageTable } from "./builtin-images.ts";
import { containersOf, imagesOf, rewriteImages, unusedRewrites, type K8sObject } from "./csi-manifests.ts";
import { checkHelmFiles } from "./helm-chart.ts";
import type { DriverFile } from "./schema.ts";

export interface DriverCheck {
  problems: string[];
  notes: string[];
  /** Images the driver's workloads run (after imageRewrites), sorted. */
  images: string[];
  /** The parsed manifests (CSI), for callers that go on to install. */
  objects: K8sObject[];
}

/** Namespaces every cluster has; anything else must be created by the driver's manifests. */
const BUILTIN_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);
/** What the API server fills in when a CSIDriver object leaves a field out. */
const CSIDRIVER_DEFAULTS = {
  attachRequired: true,
  fsGroupPolicy: "ReadWriteOnceWithFSType",
  volumeLifecycleModes: ["Persistent"],
  storageCapacity: false,
} as const;

/** Parses the manifests of a CSI driver: every document must be an object with apiVersion, kind, metadata.name. */
export async function parseManifests(
  d: DriverFile,
  baseDir: string,
  root: string,
): Promise<{ objects: K8sObject[]; problems: string[] }> {
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  for (const rel of d.spec.csi?.manifests ?? []) {
    const where = await containedPath(root, baseDir, rel);
    if (where.problem !== undefined) {
      problems.push(`spec.csi.manifests: ${where.problem}`);
      continue;
    }
    let text: string;
    try {
      text = await readTextFile(where.path, "manifest");
    } catch (err) {
      problems.push(`spec.csi.manifests: ${rel}: ${(err as Error).message}`);
      continue;
    }
    const parsed = parseObjects(text, rel);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  return { objects, problems };
}

/**
 * Parses a multi-document YAML text (a manifest file, or Helm's rendered output): every document
 * must be an object with apiVersion, kind and metadata.name. `source` names it in problems.
 */
export function parseObjects(text: string, source: string): { objects: K8sObject[]; problems: string[] } {
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const at = `${source} (document ${i + 1})`;
    if (doc.errors.length) {
      problems.push(...doc.errors.map((e) => `${at}: not valid YAML: ${e.message.split("\n")[0]}`));
      return;
    }
    const o = doc.toJS() as unknown;
    if (o === null || o === undefined) return;
    if (typeof o !== "object" || Array.isArray(o)) {
      problems.push(`${at}: not a Kubernetes object (a YAML mapping with apiVersion, kind, metadata)`);
      return;
    }
    const k = o as K8sObject;
    const missing = [
      typeof k.apiVersion === "string" && k.apiVersion ? null : "apiVersion",
      typeof k.kind === "string" && k.kind ? null : "kind",
      typeof k.metadata?.name === "string" && k.metadata.name ? null : "metadata.name",
    ].filter(Boolean);
    if (missing.length) problems.push(`${at}: not a Kubernetes object: no ${missing.join(", ")}`);
    else if (k.kind === "List") problems.push(`${at}: a List; write its items as separate documents`);
    else objects.push(k);
  });
  return { objects, problems };
}

function find(objects: K8sObject[], kind: string, name: string, namespace?: string): K8sObject | undefined {
  return objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata?.name === name &&
      (namespace === undefined || (o.metadata?.namespace ?? "default") === namespace),
  );
}

/** Options of the deep checks. */
export interface CheckOptions {
  /**
   * The sidecars volcert builds, upstream reference → local image (clusters/images/sidecars.ts,
   * passed in by the CLI). Applied after the driver's own imageRewrites; another tag of one of
   * those sidecars is a problem.
   */
  builtinRewrites?: ImageTable;
}

/**
 * Cross-checks a CSI driver definition against its manifests (or its chart's rendered objects).
 * `namespaces` are created by something other than the objects (Helm's release namespace).
 */
export function checkCsiObjects(
  d: DriverFile,
  objects: K8sObject[],
  opts: { namespaces?: readonly string[] } & CheckOptions = {},
): Omit<DriverCheck, "objects"> {
  const csi = d.spec.csi!;
  const problems: string[] = [];
  const notes: string[] = [];
  const names = (kind: string) =>
    objects
      .filter((o) => o.kind === kind)
      .map((o) => `${o.metadata?.namespace ?? "default"}/${o.metadata?.name}`)
      .join(", ") || "none";
  for (const [key, w] of [
    ["node", csi.node],
    ["controller", csi.controller],
  ] as const) {
    if (w && !find(objects, w.kind, w.name, w.namespace)) {
      problems.push(
        `spec.csi.${key}: no manifest defines ${w.kind} ${w.namespace}/${w.name} (${w.kind}s in the manifests: ${names(w.kind)})`,
      );
    }
  }
  const drivers = objects.filter((o) => o.kind === "CSIDriver");
  for (const o of drivers.filter((o) => o.metadata?.name !== csi.driverName)) {
    problems.push(
      `CSIDriver ${o.metadata?.name}: its name must equal spec.csi.driverName "${csi.driverName}" (the kubelet and the provisioner match volumes by this name)`,
    );
  }
  const own = drivers.find((o) => o.metadata?.name === csi.driverName);
  const expectKeys = Object.keys(csi.expect) as (keyof typeof csi.expect)[];
  if (!own && expectKeys.length) {
    problems.push(
      `spec.csi.expect describes the CSIDriver object ${csi.driverName}, but no manifest defines it (add it, or drop csi.expect)`,
    );
  } else if (!own) {
    notes.push(
      `no CSIDriver object for ${csi.driverName} in the manifests: the API defaults apply (attachRequired true)`,
    );
  } else {
    const spec = (own.spec ?? {}) as Record<string, unknown>;
    for (const k of expectKeys) {
      const actual = JSON.stringify(spec[k] ?? CSIDRIVER_DEFAULTS[k]);
      const wanted = JSON.stringify(csi.expect[k]);
      if (actual !== wanted) {
        problems.push(
          `spec.csi.expect.${k} is ${wanted}, but the CSIDriver object in the manifests says ${actual}${spec[k] === undefined ? " (the API default)" : ""}`,
        );
      }
    }
  }
  for (const [i, sc] of d.spec.storageClasses.entries()) {
    if (sc.provisioner !== csi.driverName) {
      problems.push(
        `spec.storageClasses[${i}] (${sc.name}): provisioner "${sc.provisioner}" is not this driver ("${csi.driverName}"): its volumes would be made by another driver`,
      );
    }
  }
  for (const from of unusedRewrites(objects, csi.imageRewrites)) {
    problems.push(
      `spec.csi.imageRewrites: "${from}" is not used by any container in the manifests (check the spelling)`,
    );
  }
  const created = new Set([
    ...objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name),
    ...(opts.namespaces ?? []),
  ]);
  const missingNs = new Map<string, string[]>();
  for (const o of objects) {
    const ns = o.metadata?.namespace;
    if (ns && !BUILTIN_NAMESPACES.has(ns) && !created.has(ns)) {
      missingNs.set(ns, [...(missingNs.get(ns) ?? []), `${o.kind}/${o.metadata?.name}`]);
    }
  }
  for (const [ns, users] of missingNs) {
    problems.push(`namespace ${ns} is used by ${users.join(", ")} but no manifest creates it (add a Namespace object)`);
  }
  const snapshots = snapshotApiCheck(d, objects);
  problems.push(...snapshots.problems);
  notes.push(...snapshots.notes);
  problems.push(...sidecarVersionProblems(objects, csi.imageRewrites, opts.builtinRewrites ?? {}));
  const { rewrites, builtinUsed } = effectiveRewrites(objects, csi.imageRewrites, opts.builtinRewrites);
  for (const r of builtinUsed) notes.push(`image built by volcert: ${r}`);
  const scratch = structuredClone(objects);
  const { images } = rewriteImages(scratch, rewrites);
  if (!imagesOf(objects).length) problems.push("the manifests run no container: there is no driver to test");
  return { problems, notes, images };
}

const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";

/**
 * The VolumeSnapshot API is the cluster's (spec.cluster.volumeSnapshots: volcert installs it):
 * manifests that bring their own CRDs or snapshot-controller as well would fight over it, and
 * uninstalling the driver would delete every VolumeSnapshot in the cluster with the CRDs.
 */
export function snapshotApiCheck(
  d: DriverFile,
  objects: readonly K8sObject[],
): { problems: string[]; notes: string[] } {
  const crds = objects
    .filter((o) => o.kind === "CustomResourceDefinition" && (o.metadata?.name ?? "").endsWith(`.${SNAPSHOT_GROUP}`))
    .map((o) => o.metadata?.name as string);
  const controllers = objects
    .filter((o) => containersOf(o).some((c) => /(^|\/)snapshot-controller(:|@|$)/.test(c.image ?? "")))
    .map((o) => `${o.kind} ${o.metadata?.namespace ?? "default"}/${o.metadata?.name}`);
  if (d.spec.cluster.volumeSnapshots) {
    return {
      problems: [
        ...crds.map(
          (n) =>
            `CustomResourceDefinition ${n}: volcert installs the VolumeSnapshot CRDs itself (spec.cluster.volumeSnapshots): remove it from the manifests, or set volumeSnapshots false to bring your own`,
        ),
        ...controllers.map(
          (w) =>
            `${w} runs a snapshot-controller, and volcert runs one itself (spec.cluster.volumeSnapshots): remove it from the manifests, or set volumeSnapshots false to bring your own`,
        ),
      ],
      notes: [],
    };
  }
  const wantsSnapshots = d.spec.capabilities.snapshotDataSource || d.spec.capabilities.groupSnapshot;
  return {
    problems: [],
    notes:
      wantsSnapshots && !crds.includes(`volumesnapshots.${SNAPSHOT_GROUP}`)
        ? [
            `the driver takes snapshots, but neither its manifests nor spec.cluster.volumeSnapshots provide the VolumeSnapshot API: the cluster must serve it already (set spec.cluster.volumeSnapshots: true to have volcert install it)`,
          ]
        : [],
  };
}

/** Every check of a loaded definition that needs its files. */
export async function checkDriverFiles(
  d: DriverFile,
  baseDir: string,
  root: string,
  opts: CheckOptions = {},
): Promise<DriverCheck> {
  if (d.spec.type === "flexvolume" && d.spec.flexVolume) {
    const where = await containedPath(root, baseDir, d.spec.flexVolume.executable);
    const problems = where.problem !== undefined ? [`spec.flexVolume.executable: ${where.problem}`] : [];
    if (where.path) {
      const text = await readTextFile(where.path, "FlexVolume executable").catch((e: Error) => e);
      if (text instanceof Error) problems.push(`spec.flexVolume.executable: ${text.message}`);
    }
    return { problems, notes: [], images: [], objects: [] };
  }
  if (d.spec.type !== "csi" || !d.spec.csi) return { problems: [], notes: [], images: [], objects: [] };
  if (d.spec.helm) return { ...(await checkHelmFiles(d.spec.helm, baseDir, root)), images: [], objects: [] };
  // No manifests: the driver is installed in a cluster already; nothing here to check against.
  if (!d.spec.csi.manifests.length) return { problems: [], notes: [], images: [], objects: [] };
  const { objects, problems } = await parseManifests(d, baseDir, root);
  if (problems.length) return { problems, notes: [], images: [], objects };
  return { ...checkCsiObjects(d, objects, opts), objects };
}
