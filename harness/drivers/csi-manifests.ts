/**
 * CSI driver manifests as data: read the files a driver definition lists, rewrite image references
 * (upstream names → locally built images; there is no registry to pull from), and list the images
 * the pods will need. Pure functions apart from reading the files, so they are unit-tested.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../core/errors.ts";
import type { DriverFile } from "./schema.ts";

export type K8sObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
} & Record<string, unknown>;

export interface ContainerLike {
  name?: string;
  image?: string;
  imagePullPolicy?: string;
}

export async function readManifests(d: DriverFile, baseDir: string): Promise<K8sObject[]> {
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  for (const rel of d.spec.csi?.manifests ?? []) {
    const file = resolve(baseDir, rel);
    const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      problems.push(`${rel}: ${e.code === "ENOENT" ? "file not found" : e.message}`);
      return "";
    });
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) problems.push(...doc.errors.map((e) => `${rel}: ${e.message}`));
      const o = doc.toJS() as K8sObject | null;
      if (!o) continue;
      if (!o.kind || !o.apiVersion) problems.push(`${rel}: a document has no kind or apiVersion`);
      else objects.push(o);
    }
  }
  if (problems.length) throw new ConfigError(`driver ${d.metadata.name}: its CSI manifests cannot be used`, problems);
  return objects;
}

/** The containers of a workload object (pod template or pod), or none. */
export function containersOf(o: K8sObject): ContainerLike[] {
  const spec = o.spec as
    | ({
        template?: { spec?: PodSpecLike };
        jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } };
      } & PodSpecLike)
    | undefined;
  const pod = o.kind === "Pod" ? spec : (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec);
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}
interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
}

/** Every image the workloads' containers name, sorted. */
export function imagesOf(objects: K8sObject[]): string[] {
  return [...new Set(objects.flatMap((o) => containersOf(o).flatMap((c) => (c.image ? [c.image] : []))))].sort();
}

/**
 * Rewrites image references in place and returns every image the workloads use. Every image is
 * loaded into the nodes from the local engine (there is no registry), so every pull policy becomes
 * IfNotPresent: an `Always` or a `:latest` tag would make the kubelet try a registry and fail.
 */
export function rewriteImages(
  objects: K8sObject[],
  rewrites: Record<string, string>,
): { images: string[]; rewritten: string[] } {
  const images = new Set<string>();
  const rewritten: string[] = [];
  for (const o of objects) {
    for (const c of containersOf(o)) {
      if (!c.image) continue;
      const to = rewrites[c.image];
      if (to) {
        rewritten.push(`${o.kind}/${o.metadata?.name ?? "?"} ${c.name ?? "?"}: ${c.image} → ${to}`);
        c.image = to;
      }
      c.imagePullPolicy = "IfNotPresent";
      images.add(c.image);
    }
  }
  return { images: [...images].sort(), rewritten };
}

/** Rewrites that matched nothing are almost always a typo in the driver file. */
export function unusedRewrites(objects: K8sObject[], rewrites: Record<string, string>): string[] {
  const used = new Set<string>();
  for (const o of objects) for (const c of containersOf(o)) if (c.image) used.add(c.image);
  return Object.keys(rewrites).filter((from) => !used.has(from) && !used.has(rewrites[from] as string));
}
