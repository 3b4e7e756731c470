/**
 * Getting from "nothing" to "tools and images ready": Docker engine, image build, and the paths of
 * the binaries the rest of volcert calls (kind, kubectl). Shared by every command that needs a cluster.
 */
import { ensureDockerEngine } from "../docker/engine.ts";
import { step } from "../core/progress.ts";
import { binaryPath, buildImages, type BuildReport } from "../../clusters/images/build.ts";
import { imageNames, loadManifest, type Manifest } from "../../clusters/images/manifest.ts";
import type { KindTools } from "../../clusters/kind/provider.ts";

export interface Environment {
  manifest: Manifest;
  tools: KindTools;
  build: BuildReport;
  dockerVersion: string;
}

export async function prepareEnvironment(): Promise<Environment> {
  const manifest = loadManifest();
  const engine = await step("Docker engine", ensureDockerEngine);
  const build = await step("hermetic images (cached steps are skipped)", () => buildImages(manifest));
  return { manifest, tools: toolsFor(manifest), build, dockerVersion: engine.serverVersion };
}

export function toolsFor(manifest: Manifest): KindTools {
  return {
    kind: binaryPath(manifest, "go-kind", "kind"),
    kubectl: binaryPath(manifest, "go-kubernetes", "kubectl"),
    nodeImage: imageNames(manifest).node,
  };
}
