/**
 * Docker image helpers for the toolchain: build from a generated context with the classic builder
 * (BuildKit would try to fetch its frontend from a registry), and read back the cache key label.
 */
import { cp, mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { exec } from "../../harness/core/exec.ts";
import { freshDir } from "./cache.ts";

export const LABEL_MANAGED = "io.volcert.managed";
export const LABEL_KEY = "io.volcert.cache-key";

/** The cache key an existing local image was built with, or null if it is absent. */
export async function imageKey(image: string): Promise<string | null> {
  const r = await exec("docker", ["image", "inspect", "--format", `{{ index .Config.Labels "${LABEL_KEY}" }}`, image], {
    nothrow: true,
    timeoutMs: 30_000,
  });
  return r.ok ? r.stdout.trim() || "" : null;
}

export interface ContextImage {
  image: string;
  key: string;
  /** Dockerfile lines; `files` maps a context path to a source file or directory. */
  dockerfile: string[];
  files: Record<string, string>;
  contextDir: string;
  logFile: string;
}

export async function buildFromContext(spec: ContextImage): Promise<void> {
  const dir = await freshDir(spec.contextDir);
  for (const [name, src] of Object.entries(spec.files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await cp(src, join(dir, name), { recursive: true });
  }
  await writeFile(
    join(dir, "Dockerfile"),
    `${spec.dockerfile.join("\n")}\nLABEL ${LABEL_MANAGED}=true ${LABEL_KEY}=${spec.key}\n`,
  );
  await exec("docker", ["build", "--quiet", "-t", spec.image, dir], {
    env: { DOCKER_BUILDKIT: "0" },
    timeoutMs: 20 * 60_000,
    logFile: spec.logFile,
  });
}

/**
 * Removes the upstream-named tags (registry.k8s.io/...) that volcert's builds before 2026-12-02
 * gave its own images in the host engine. Only a tag whose image carries volcert's label goes: a
 * real upstream image someone pulled is never touched.
 */
export async function untagOwnUpstreamNames(names: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    const r = await exec(
      "docker",
      ["image", "inspect", "--format", `{{ index .Config.Labels "${LABEL_MANAGED}" }}`, name],
      {
        nothrow: true,
        timeoutMs: 30_000,
      },
    );
    if (!r.ok || r.stdout.trim() !== "true") continue;
    // A container still using the old image keeps it; nothing else depends on the removal.
    const rmi = await exec("docker", ["rmi", name], { nothrow: true, timeoutMs: 60_000 });
    if (rmi.ok) removed.push(name);
  }
  return removed;
}

/** Removes volcert's dangling images (replaced by a newer build); returns how many went. */
export async function pruneReplacedImages(): Promise<number> {
  const label = `label=${LABEL_MANAGED}=true`;
  const before = await exec("docker", ["images", "--quiet", "--filter", "dangling=true", "--filter", label], {
    timeoutMs: 60_000,
  });
  if (!before.stdout.trim()) return 0;
  await exec("docker", ["image", "prune", "--force", "--filter", label], { timeoutMs: 5 * 60_000 });
  const after = await exec("docker", ["images", "--quiet", "--filter", "dangling=true", "--filter", label], {
    timeoutMs: 60_000,
  });
  const count = (out: string) => new Set(out.split("\n").filter(Boolean)).size;
  return count(before.stdout) - count(after.stdout);
}

export function fileName(path: string): string {
  return basename(path);
}
