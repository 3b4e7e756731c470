/**
 * The build cache, outside the repository: $VOLCERT_CACHE or ~/.cache/volcert. Every output lives
 * under a directory named by its cache key, so a changed input means a new key and a rebuild of
 * only what depends on it.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { cacheRoot } from "../../harness/core/cache-root.ts";

export { cacheRoot };

export const cachePaths = {
  goModCache: () => join(cacheRoot(), "go", "mod"),
  goBuildCache: () => join(cacheRoot(), "go", "build"),
  debs: () => join(cacheRoot(), "debs"),
  out: (step: string, key: string) => join(cacheRoot(), "out", step, key.slice(0, 16)),
  logs: () => join(cacheRoot(), "logs"),
  tmp: () => join(cacheRoot(), "tmp"),
};

/** Stable hash of any JSON-serialisable value (object keys sorted). */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Hash of a file or a directory tree (paths and contents), for keys that depend on repo files. */
export function hashPath(path: string): string {
  const h = createHash("sha256");
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name));
    } else {
      h.update(relative(path, p));
      h.update(String(st.mode & 0o111 ? "x" : "-"));
      h.update(readFileSync(p));
    }
  };
  walk(path);
  return h.digest("hex");
}

const STAMP = ".complete";

/** A step builds into `<output>.building-<pid>` and renames it into place when complete (build.ts). */
export const BUILDING_SUFFIX = ".building-";

export function isComplete(dir: string): boolean {
  return existsSync(join(dir, STAMP));
}

export async function markComplete(dir: string, info: Record<string, unknown>): Promise<void> {
  await writeFile(join(dir, STAMP), `${JSON.stringify(info, null, 2)}\n`);
}

/** A fresh, empty output directory (a half-built one from an interrupted run is discarded). */
export async function freshDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}
