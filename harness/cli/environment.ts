/**
 * Getting from "nothing" to "tools and images ready": Docker engine, image build, and the paths of
 * the binaries the rest of volcert calls (kind, kubectl, helm). Shared by every command that needs a cluster.
 */
import { step } from "../core/progress.ts";
import { binaryPath, buildImages, runTargets, type BuildReport } from "../../clusters/images/build.ts";
import { driverPreloads, imageNames, loadManifest, type Manifest } from "../../clusters/images/manifest.ts";
import { buildPlan, NODE_DRIVERS_STEP } from "../../clusters/images/plan.ts";
import type { KindTools } from "../../clusters/kind/provider.ts";
import { checkCacheTools, ensureEngine } from "./host.ts";

/** kind's tools, and helm for drivers installed from a chart (InstallTarget.helm). */
export type Tools = KindTools & { helm: string };

export interface Environment {
  manifest: Manifest;
  tools: Tools;
  build: BuildReport;
  dockerVersion: string;
}

/**
 * `images`: the images the run's drivers need (LoadedDriver.images). The on-demand steps (the CSI
 * sidecars, our second CSI driver) are built only when one of them is among these. `steps`:
 * on-demand steps the run needs besides (the VolumeSnapshot API's manifests).
 */
export async function prepareEnvironment(
  opts: { images?: readonly string[]; steps?: readonly string[]; createsClusters?: boolean } = {},
): Promise<Environment> {
  const manifest = loadManifest();
  const engine = await step("Docker engine", ensureEngine);
  // A run that creates no cluster (--kubeconfig, a reused one without chaos lanes) needs no variant.
  const node = nodeImageFor(manifest, opts.createsClusters === false ? [] : (opts.images ?? []));
  const targets = runTargets(buildPlan(manifest), opts.images ?? [], [...(opts.steps ?? []), ...node.steps]);
  const build = await step("hermetic images (cached steps are skipped)", () => buildImages(manifest, { targets }));
  return { manifest, tools: toolsFor(manifest, node.image), build, dockerVersion: engine.serverVersion };
}

/**
 * The node image a run's clusters start from: the variant with the reference drivers' images
 * preloaded when the run needs every one of them (the main job, `npm test`), else the plain one,
 * into which `kind load` carries those a run needs (a variant per set of images would be built,
 * and kept, for every combination of drivers a user runs).
 */
export function nodeImageFor(manifest: Manifest, images: readonly string[]): { image: string; steps: string[] } {
  const needed = new Set(images);
  const names = imageNames(manifest);
  return driverPreloads(manifest).every((i) => needed.has(i))
    ? { image: names.nodeDrivers, steps: [NODE_DRIVERS_STEP] }
    : { image: names.node, steps: [] };
}

export function toolsFor(manifest: Manifest, nodeImage = imageNames(manifest).node): Tools {
  const tools = {
    kind: binaryPath(manifest, "go-kind", "kind"),
    kubectl: binaryPath(manifest, "go-kubernetes", "kubectl"),
    helm: binaryPath(manifest, "go-helm", "helm"),
    nodeImage,
  };
  checkCacheTools([tools.kind, tools.kubectl, tools.helm]);
  return tools;
}

/** The report's "Node image": what the clusters this run created started from. */
export function describeNodeImage(manifest: Manifest, nodeImage: string, cluster: "created" | "reused" | "existing") {
  if (cluster === "existing") return "none: an existing cluster (--kubeconfig), not created by volcert";
  const plain = imageNames(manifest).node;
  const what = nodeImage === plain ? plain : `${nodeImage} (${plain} with the reference drivers' images preloaded)`;
  return cluster === "reused" ? `${what} for the clusters this run created; the reused cluster keeps its own` : what;
}
