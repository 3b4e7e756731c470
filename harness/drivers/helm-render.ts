/**
 * A chart's rendered output (`helm template`) as data, and the post-renderer's transformation.
 * Rendered objects get the cross-checks manifests get (consistency.ts `checkCsiObjects`), after
 * the release namespace is filled in where Helm would fill it in at install time. Hooks are kept
 * apart: Helm 3 runs them but does not pass them through a post-renderer, so volcert cannot
 * rewrite their images or pull policies and says so instead.
 */
import { parseAllDocuments, stringify } from "yaml";
import { effectiveRewrites, type ImageTable } from "./builtin-images.ts";
import { checkCsiObjects, parseObjects } from "./consistency.ts";
import { containersOf, imagesOf, rewriteImages, type K8sObject } from "./csi-manifests.ts";
import type { DriverFile } from "./schema.ts";

/** Kinds without a namespace: Helm leaves them alone; everything else lands in the release namespace. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "VolumeAttributesClass",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PriorityClass",
  "RuntimeClass",
  "IngressClass",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "APIService",
]);

export interface Rendered {
  /** The release's objects (what `helm uninstall` deletes). */
  objects: K8sObject[];
  /** Hook objects (annotation helm.sh/hook): run by Helm around install, not part of the release. */
  hooks: K8sObject[];
  problems: string[];
}

const annotations = (o: K8sObject): Record<string, string> =>
  ((o.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {}) as Record<string, string>;

export function isHook(o: K8sObject): boolean {
  return annotations(o)["helm.sh/hook"] !== undefined;
}

/** Parses `helm template` output; objects without a namespace get the release namespace, as at install. */
export function parseRendered(text: string, namespace: string): Rendered {
  const { objects, problems } = parseObjects(text, "the rendered chart");
  for (const o of objects) {
    if (!o.metadata?.namespace && !CLUSTER_SCOPED.has(o.kind ?? "")) o.metadata = { ...o.metadata, namespace };
  }
  return { objects: objects.filter((o) => !isHook(o)), hooks: objects.filter(isHook), problems };
}

export interface RenderCheck {
  problems: string[];
  notes: string[];
  /** Every image the release and its hooks run, after rewrites. */
  images: string[];
  /** What the post-renderer applies: csi.imageRewrites, then the built-in sidecar rewrites. */
  rewrites: Record<string, string>;
}

/**
 * The cross-checks of a rendered chart against the driver file, every problem at once, its
 * images, and the rewrites for the post-renderer. `builtin`: the sidecars volcert builds.
 */
export function checkRendered(d: DriverFile, r: Rendered, builtin: ImageTable = {}): RenderCheck {
  const helm = d.spec.helm!;
  const own = d.spec.csi?.imageRewrites ?? {};
  const { rewrites } = effectiveRewrites([...r.objects, ...r.hooks], own, builtin);
  const { problems, notes, images } = checkCsiObjects(d, r.objects, {
    namespaces: [helm.namespace],
    builtinRewrites: builtin,
  });
  if (helm.createNamespace && r.objects.some((o) => o.kind === "Namespace" && o.metadata?.name === helm.namespace))
    problems.push(
      `the chart defines Namespace ${helm.namespace}, the release namespace: set spec.helm.createNamespace to false (volcert would create it first, and Helm refuses to adopt it)`,
    );
  for (const hook of r.hooks) {
    for (const c of containersOf(hook)) {
      const at = `hook ${hook.kind}/${hook.metadata?.name} container ${c.name ?? "?"}`;
      if (c.image && rewrites[c.image])
        problems.push(
          `${at}: runs ${c.image}, which ${own[c.image] ? "spec.csi.imageRewrites maps" : "volcert offers as a local build"}, but Helm 3 does not post-render hooks: make the chart's values name ${rewrites[c.image]} instead`,
        );
      if (c.imagePullPolicy === "Always")
        problems.push(
          `${at}: imagePullPolicy Always would make the kubelet pull from a registry (there is none), and Helm 3 does not post-render hooks: set IfNotPresent in the chart`,
        );
    }
  }
  return {
    problems: [...r.problems, ...problems],
    notes,
    images: [...new Set([...images, ...imagesOf(r.hooks)])].sort(),
    rewrites,
  };
}

/**
 * What volcert's post-renderer does to the release's rendered objects (Helm passes them on stdin
 * and installs what comes out): the same image rewrites and IfNotPresent pull policies manifests
 * get (csi-manifests.ts `rewriteImages`).
 */
export function postRender(text: string, rewrites: Record<string, string>): string {
  const out: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`the rendered chart is not valid YAML: ${doc.errors[0]?.message}`);
    const o = doc.toJS() as K8sObject | null;
    if (o === null || o === undefined) continue;
    rewriteImages([o], rewrites);
    out.push(stringify(o, { lineWidth: 0 }));
  }
  return out.map((d) => `---\n${d}`).join("");
}
