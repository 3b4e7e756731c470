/**
 * volcert runs binaries from its cache (kind, kubectl, helm), often as root. A cache directory
 * someone else can write is a way to plant a binary that root then runs, so the root is created
 * 0700 and volcert refuses to use a root, or a directory on the way to a binary it runs, that is
 * not the current user's or that group or others can write. Cheap: a few stat calls.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, relative, sep } from "node:path";
import { ConfigError } from "./errors.ts";

/** Why `path` is unsafe to run code from, or null. */
export function unsafeReason(path: string, uid: number): string | null {
  const st = statSync(path);
  if (st.uid !== uid) return `${path} belongs to uid ${st.uid}, not to you (uid ${uid})`;
  if (st.mode & 0o022) {
    const who = [st.mode & 0o020 ? "group" : "", st.mode & 0o002 ? "others" : ""].filter(Boolean).join(" and ");
    return `${path} is writable by ${who} (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`;
  }
  return null;
}

function currentUid(): number {
  return process.getuid?.() ?? 0;
}

/** Creates the cache root (0700) if it is missing; refuses one that is not private to this user. */
export function ensurePrivateCacheRoot(root: string, uid = currentUid()): void {
  if (!existsSync(root)) {
    mkdirSync(dirname(root), { recursive: true });
    mkdirSync(root, { mode: 0o700 });
  }
  const why = unsafeReason(root, uid);
  if (why) {
    throw new ConfigError(`volcert's cache ${root} is not safe to run programs from`, [why], {
      fix: `make it yours and private (chown $(id -u) ${root} && chmod go-w ${root}), or point VOLCERT_CACHE at a new directory`,
    });
  }
}

/**
 * Refuses to run `binaries` (paths under `root`) when the binary or a directory between it and
 * `root` is not this user's or is writable by group or others. Paths that do not exist yet are
 * skipped (the build creates them).
 */
export function checkCacheBinaries(root: string, binaries: readonly string[], uid = currentUid()): void {
  const problems = new Set<string>();
  for (const bin of binaries) {
    const rel = relative(root, bin);
    if (rel.startsWith("..")) continue;
    let path = root;
    for (const part of ["", ...rel.split(sep)]) {
      if (part) path = `${path}${sep}${part}`;
      if (!existsSync(path)) break;
      const why = unsafeReason(path, uid);
      if (why) problems.add(why);
    }
  }
  if (problems.size) {
    throw new ConfigError(
      `volcert will not run programs from its cache ${root}: someone else could replace them`,
      [...problems],
      {
        fix: `chown -R $(id -u) ${root} && chmod -R go-w ${root}, or point VOLCERT_CACHE at a new directory (the images are rebuilt there)`,
      },
    );
  }
}
