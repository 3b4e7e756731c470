/**
 * Reading files a user points volcert at (driver files, manifests, charts' values): only regular
 * files below a size cap are read, so a directory, FIFO or device is a clear ConfigError, never a
 * hang or a stack trace; and a referenced file must stay inside the driver's own directory tree
 * after symlinks are followed, so a driver file cannot make volcert read (or ship in a bundle)
 * files from elsewhere on the machine.
 */
import { constants } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { ConfigError } from "../core/errors.ts";

/** Driver files and manifests are text written by people: 4 MiB is far above any real one. */
export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

function kindOf(s: import("node:fs").Stats): string {
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a FIFO (named pipe)";
  if (s.isSocket()) return "a socket";
  if (s.isCharacterDevice() || s.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Why `path` cannot be read as a text file, or null. Never blocks on a FIFO. */
export async function unreadableReason(path: string, maxBytes = MAX_TEXT_BYTES): Promise<string | null> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (s instanceof Error) {
    if (s.code === "ENOENT") return "does not exist";
    if (s.code === "EACCES") return "cannot be read (permission denied)";
    if (s.code === "ELOOP") return "is a symlink loop";
    return `cannot be read (${s.code ?? s.message})`;
  }
  if (!s.isFile()) return `is ${kindOf(s)}, not a file`;
  if (s.size > maxBytes) return `is ${s.size} bytes; at most ${maxBytes} are read`;
  return null;
}

/** Reads a regular text file (UTF-8) or throws a ConfigError that says why it cannot. */
export async function readTextFile(path: string, what: string, maxBytes = MAX_TEXT_BYTES): Promise<string> {
  const why = await unreadableReason(path, maxBytes);
  if (why) throw new ConfigError(`${what} ${path} ${why}`);
  // O_NONBLOCK: if the file was swapped for a FIFO after the check, open does not wait for a writer.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw new ConfigError(`${what} ${path} is ${kindOf(s)}, not a file`);
    const buf = Buffer.alloc(Math.min(s.size, maxBytes));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close();
  }
}

/**
 * Resolves `rel` against `baseDir` and checks the result, after symlinks, lies inside `root`.
 * Returns the problem (for a list) or the resolved path.
 */
export async function containedPath(
  root: string,
  baseDir: string,
  rel: string,
): Promise<{ path: string; problem?: undefined } | { path?: undefined; problem: string }> {
  if (isAbsolute(rel)) return { problem: `${rel}: must be relative to the driver file` };
  const target = resolve(baseDir, rel);
  const real = await realpath(target).catch((e: NodeJS.ErrnoException) => e);
  if (real instanceof Error) {
    return {
      problem:
        real.code === "ENOENT"
          ? `${rel}: does not exist (resolved to ${target})`
          : `${rel}: cannot be resolved (${real.code ?? real.message})`,
    };
  }
  const realRoot = await realpath(root);
  const inside = relative(realRoot, real);
  if (inside.startsWith("..") || isAbsolute(inside)) {
    return {
      problem: `${rel}: resolves to ${real}, outside the driver's directory ${realRoot} (keep every file a driver uses in its own directory tree)`,
    };
  }
  return { path: real };
}

/**
 * A driver argument: a file, or a directory holding `driver.yaml`. Returns the driver file's path.
 */
export async function driverFileOf(path: string): Promise<string> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (!(s instanceof Error) && s.isDirectory()) {
    const inner = join(path, "driver.yaml");
    const why = await unreadableReason(inner);
    if (why)
      throw new ConfigError(`driver ${path} is a directory, and its driver.yaml ${why}`, [], {
        fix: "pass the driver file itself, or a directory that holds driver.yaml",
      });
    return inner;
  }
  return path;
}
