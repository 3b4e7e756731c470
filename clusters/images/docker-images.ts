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

export function fileName(path: string): string {
  return basename(path);
}
