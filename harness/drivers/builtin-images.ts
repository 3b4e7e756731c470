/**
 * Built-in image rewrites: the CSI sidecars volcert builds, offered under their upstream names.
 * The table (upstream reference → local image, e.g. registry.k8s.io/sig-storage/csi-attacher:v4.12.0
 * → volcert/csi-attacher:v4.12.0) is made from the version manifest in clusters/images/sidecars.ts
 * and handed in as data by the CLI (harness/ does not import clusters/). A driver's own
 * csi.imageRewrites come first and win. Upstream names are never tagged in the Docker engine:
 * that would shadow the real images.
 */
import { containersOf, type K8sObject } from "./csi-manifests.ts";

export type ImageTable = Readonly<Record<string, string>>;

export interface ImageRef {
  /** Registry and path, e.g. registry.k8s.io/sig-storage/csi-attacher. */
  repository: string;
  tag: string | null;
  digest: string | null;
}

/** Splits `repo[:tag][@digest]`; a colon before the last slash is a registry port, not a tag. */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf("@");
  const name = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? null : ref.slice(at + 1);
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) return { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
  return { repository: name, tag: null, digest };
}

/**
 * The local image the built-in table offers for `image`. A digest (`csi-attacher:v4.12.0@sha256:…`)
 * pins upstream's build of that tag; the table's image is volcert's build of the same release.
 */
export function builtinImageFor(image: string, table: ImageTable): string | undefined {
  if (Object.hasOwn(table, image)) return table[image];
  const ref = parseImageRef(image);
  if (ref.digest && ref.tag) {
    const tagged = `${ref.repository}:${ref.tag}`;
    if (Object.hasOwn(table, tagged)) return table[tagged];
  }
  return undefined;
}

/** The images the objects' containers run, each with where ("DaemonSet ns/name, container c"). */
function imageUses(objects: readonly K8sObject[]): { image: string; where: string }[] {
  return objects.flatMap((o) =>
    containersOf(o).flatMap((c) =>
      c.image
        ? [
            {
              image: c.image,
              where: `${o.kind} ${o.metadata?.namespace ?? "default"}/${o.metadata?.name}, container ${c.name ?? "?"}`,
            },
          ]
        : [],
    ),
  );
}

/**
 * The rewrites to apply to the objects: the driver's own, plus a built-in one for every image
 * the driver does not map itself. `builtinUsed` lists the built-in ones ("from → to").
 */
export function effectiveRewrites(
  objects: readonly K8sObject[],
  own: Readonly<Record<string, string>>,
  builtin: ImageTable = {},
): { rewrites: Record<string, string>; builtinUsed: string[] } {
  const fromTable: Record<string, string> = {};
  for (const { image } of imageUses(objects)) {
    if (Object.hasOwn(own, image)) continue;
    const to = builtinImageFor(image, builtin);
    if (to) fromTable[image] = to;
  }
  return {
    rewrites: { ...fromTable, ...own },
    builtinUsed: Object.entries(fromTable).map(([from, to]) => `${from} → ${to}`),
  };
}

/** Old names of the same registry: k8s.gcr.io is frozen, its sig-storage images moved to registry.k8s.io. */
const REGISTRY_ALIASES: Readonly<Record<string, string>> = { "k8s.gcr.io/": "registry.k8s.io/" };

function canonicalRepository(repository: string): string {
  for (const [old, current] of Object.entries(REGISTRY_ALIASES))
    if (repository.startsWith(old)) return current + repository.slice(old.length);
  return repository;
}

/** Orders v1.2.3-style tags numerically (v2.18.1 after v2.9.0). */
function compareTags(a: string, b: string): number {
  const nums = (t: string) =>
    t
      .replace(/^v/, "")
      .split(/[.-]/)
      .map((x) => Number.parseInt(x, 10) || 0);
  const [x, y] = [nums(a), nums(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * A container running a sidecar volcert builds, at a tag volcert does not build, would wait for
 * a registry that does not exist. Each such image is a problem naming the mapping to use. An image
 * the driver maps itself (even to itself, after loading it into the engine) is the driver's choice.
 */
export function sidecarVersionProblems(
  objects: readonly K8sObject[],
  own: Readonly<Record<string, string>>,
  builtin: ImageTable,
): string[] {
  const offered = new Map<string, { tag: string; image: string }[]>();
  for (const [from, to] of Object.entries(builtin)) {
    const ref = parseImageRef(from);
    if (!ref.tag) continue;
    offered.set(ref.repository, [...(offered.get(ref.repository) ?? []), { tag: ref.tag, image: to }]);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { image, where } of imageUses(objects)) {
    if (seen.has(image) || Object.hasOwn(own, image) || builtinImageFor(image, builtin)) continue;
    seen.add(image);
    const ref = parseImageRef(image);
    const versions = offered.get(canonicalRepository(ref.repository));
    if (!versions) continue;
    const sorted = [...versions].sort((a, b) => compareTags(a.tag, b.tag));
    const newest = sorted.at(-1) as { tag: string; image: string };
    const name = ref.repository.slice(ref.repository.lastIndexOf("/") + 1);
    const built =
      sorted.length === 1
        ? `volcert builds ${name} ${newest.tag}`
        : `volcert offers ${name} as ${sorted.map((v) => v.tag).join(", ")}`;
    const used = ref.tag ?? (ref.digest ? "a digest and no tag" : "no tag (latest)");
    problems.push(
      `${where} runs ${image}: ${built}; the manifest uses ${used}: map it with spec.csi.imageRewrites to ${newest.image} if that version is fine for your driver (or to itself, if you load that image into the local Docker engine yourself)`,
    );
  }
  return problems;
}
