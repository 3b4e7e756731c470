/**
 * The files volcert's Docker bootstrap owns or edits on the host, and how it writes them: whole
 * files replaced atomically (temp file in the same directory, fsync, rename), so dockerd, a
 * concurrent reader or a crash never sees half a daemon.json or half a shim script.
 */
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InfraError } from "../core/errors.ts";
import type { DaemonJson, ShimRecord } from "./shim.ts";

export interface DockerHostPaths {
  daemonJson: string;
  /** The shim script, in a directory volcert owns. */
  shim: string;
  /**
   * The record of the default runtime before the shim (ShimRecord). Next to the shim rather than
   * in volcert's cache: daemon.json is host-wide, while the cache is per user and $VOLCERT_CACHE
   * and is the first thing people delete; the record must live as long as the shim.
   */
  shimRecord: string;
  /** Where dockerd writes its pid unless daemon.json says `pidfile`. */
  defaultPidFile: string;
  /** Where dockerd keeps containers unless daemon.json says `data-root`. */
  defaultDataRoot: string;
  /** dockerd's log when volcert starts it without an init system. */
  dockerdLog: string;
}

export const HOST_PATHS: DockerHostPaths = {
  daemonJson: "/etc/docker/daemon.json",
  shim: "/usr/local/libexec/volcert/volcert-runc",
  shimRecord: "/usr/local/libexec/volcert/default-runtime-before-shim.json",
  defaultPidFile: "/var/run/docker.pid",
  defaultDataRoot: "/var/lib/docker",
  dockerdLog: "/var/log/volcert-dockerd.log",
};

export async function readDaemonJson(path: string): Promise<DaemonJson> {
  if (!existsSync(path)) return {};
  const text = await readFile(path, "utf8");
  try {
    const parsed: unknown = text.trim() ? JSON.parse(text) : {};
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as DaemonJson;
  } catch (err) {
    throw new InfraError(`${path} is not valid JSON (${(err as Error).message})`, {
      fix: `repair or remove ${path}; volcert will not overwrite a file it cannot read`,
    });
  }
}

/** Writes daemon.json atomically, keeping the existing file's mode (0644 for a new one). */
export async function writeDaemonJson(path: string, config: DaemonJson): Promise<void> {
  const mode = existsSync(path) ? (await stat(path)).mode & 0o7777 : 0o644;
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`, mode);
}

export async function readShimRecord(path: string): Promise<ShimRecord | null> {
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(await readFile(path, "utf8")) as Partial<ShimRecord>;
    if (r.defaultRuntime !== null && typeof r.defaultRuntime !== "string") throw new Error("no defaultRuntime");
    return { defaultRuntime: r.defaultRuntime, recordedAt: String(r.recordedAt ?? "") };
  } catch (err) {
    throw new InfraError(`${path} is not a record volcert can read (${(err as Error).message})`, {
      fix: `look at it, set "default-runtime" in the Docker daemon.json by hand if needed, then remove ${path}`,
    });
  }
}

export async function writeShimRecord(path: string, record: ShimRecord): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, 0o644);
}

/** Removes a file volcert wrote, and its directory if that is now empty. */
export async function removeOwnFile(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  await rm(path, { force: true });
  await rmdir(dirname(path)).catch(() => undefined); // only succeeds when empty
  return true;
}

/**
 * Replaces `path` with `text` atomically: a temp file in the same directory (same filesystem, so
 * rename is atomic), fsynced before the rename, and the directory fsynced after it.
 */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.volcert-${process.pid}-${Date.now()}`);
  const fh = await open(tmp, "wx", mode);
  try {
    await fh.writeFile(text);
    await fh.chmod(mode); // the umask applied to open()
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
