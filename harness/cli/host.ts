/**
 * Host hygiene, wired once per command by main.ts: volcert's cache root is private to the user
 * (it runs binaries from there, often as root), kubectl keeps its discovery and HTTP caches there
 * rather than in ~/.kube/cache, and the Docker bootstrap knows which containers are volcert's and
 * whether the user agreed (--yes) to restart Docker while other containers run.
 */
import { join } from "node:path";
import { cacheRoot } from "../../clusters/images/cache.ts";
import { isVolcertContainer } from "../../clusters/kind/ownership.ts";
import { checkCacheBinaries, ensurePrivateCacheRoot } from "../core/cache-safety.ts";
import { ensureDockerEngine, type DockerHostOptions, type EngineInfo } from "../docker/engine.ts";

let consentToRestart = false;

export function prepareHost(opts: { yes: boolean }): void {
  consentToRestart = opts.yes;
  const root = cacheRoot();
  ensurePrivateCacheRoot(root);
  // kubectl reads KUBECACHEDIR when no --cache-dir is given; every kubectl volcert starts (its
  // workers' included) inherits this environment, and the commands printed for users stay short.
  process.env["KUBECACHEDIR"] = join(root, "kube-cache");
}

export function dockerHostOptions(): DockerHostOptions {
  return { isOurs: isVolcertContainer, consentToRestart };
}

/** The Docker engine, bootstrapped (if it must be) under this host's rules. */
export function ensureEngine(): Promise<EngineInfo> {
  return ensureDockerEngine(dockerHostOptions());
}

/** Refuses to run binaries from the cache that someone else could have replaced. */
export function checkCacheTools(binaries: readonly string[]): void {
  checkCacheBinaries(cacheRoot(), binaries);
}
