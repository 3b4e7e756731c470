/**
 * A kind cluster's state directory on the host (`<cache>/clusters/<name>/`: kind config, kubeconfig,
 * created/kept markers) and, for shapes with `sharedStorage`, the cluster's shared storage: one
 * host directory inside it, mounted into every node at SHARED_STORAGE_NODE_PATH, where a network
 * storage stand-in (csi-netstore) keeps its volumes. It lives and dies with the cluster: created
 * by `create`, removed by `destroy` and by `cluster sweep` (through removeClusterState only).
 *
 * Loop devices belong to the host kernel: a node that attached an image file of the shared
 * directory leaves the device attached when the node container is deleted. Removing the files
 * first would only unlink them (the device keeps the inode, and its backing path then names no
 * volcert directory), so every device backed by a file in the directory is detached before it is
 * removed, matched by the file's device and inode as `losetup --associated` does.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { InfraError } from "../../harness/core/errors.ts";
import { exec } from "../../harness/core/exec.ts";
import { cacheRoot } from "../../harness/core/cache-root.ts";

/** Where every node sees the cluster's shared storage (the driver file's spec.cluster.sharedStorage). */
export const SHARED_STORAGE_NODE_PATH = "/var/lib/volcert-netstore";

export function clusterStateDir(name: string): string {
  return join(cacheRoot(), "clusters", name);
}

/** The host side of the shared storage: inside the state directory, so it goes with the cluster. */
export function sharedStorageDir(name: string): string {
  return join(clusterStateDir(name), "shared-storage");
}

/**
 * Whether a cluster was created with shared storage: its created.json shape says so (written by
 * `create` once the nodes are up) and the directory is there. Mounts are fixed when the nodes are
 * created, so a reused cluster cannot be given it later.
 */
export function createdWithSharedStorage(name: string): boolean {
  const created = join(clusterStateDir(name), "created.json");
  if (!existsSync(created) || !existsSync(sharedStorageDir(name))) return false;
  try {
    const info = JSON.parse(readFileSync(created, "utf8")) as { shape?: { sharedStorage?: unknown } };
    return info.shape?.sharedStorage === true;
  } catch {
    return false;
  }
}

export interface LoopDevice {
  device: string;
  /** Backing file's inode. */
  inode: bigint;
  major: number;
  minor: number;
}

/** `losetup --list --raw --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN`. */
export function parseLoopList(text: string): LoopDevice[] {
  const out: LoopDevice[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\/dev\/loop\d+) (\d+) (\d+):(\d+)$/.exec(line.trim());
    if (m) out.push({ device: m[1]!, inode: BigInt(m[2]!), major: Number(m[3]), minor: Number(m[4]) });
  }
  return out;
}

/** glibc's major()/minor() of a dev_t (what stat reports as st_dev). */
export function devNumbers(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

export interface FileId {
  dev: bigint;
  ino: bigint;
}

/**
 * Regular files under `dir` (symlinks are never followed, and a directory on another filesystem,
 * a mount point, is not entered: removeClusterState refuses such a tree anyway).
 */
export function filesUnder(dir: string): FileId[] {
  const root = lstatSync(dir, { bigint: true, throwIfNoEntry: false });
  if (!root?.isDirectory()) return [];
  const found: FileId[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p, { bigint: true, throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory() && st.dev === root.dev) walk(p);
      else if (st.isFile()) found.push({ dev: st.dev, ino: st.ino });
    }
  };
  walk(dir);
  return found;
}

/** The loop devices backed by one of `files`. */
export function loopsBackedBy(loops: readonly LoopDevice[], files: readonly FileId[]): string[] {
  const keys = new Set(
    files.map((f) => {
      const { major, minor } = devNumbers(f.dev);
      return `${major}:${minor}:${f.ino}`;
    }),
  );
  return loops.filter((l) => keys.has(`${l.major}:${l.minor}:${l.inode}`)).map((l) => l.device);
}

/** Mount points at or below `dir` (/proc/self/mountinfo, field 5; octal escapes decoded). */
export function mountsUnder(dir: string, mountinfo: string): string[] {
  const prefix = dir.replace(/\/+$/, "");
  return mountinfo
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
}

export interface StateRemovalDeps {
  /** `losetup --list --raw --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN` on the host. */
  listLoops(): Promise<string>;
  detach(device: string): Promise<void>;
  mountinfo(): string;
}

const hostDeps: StateRemovalDeps = {
  listLoops: async () =>
    (
      await exec("losetup", ["--list", "--raw", "--noheadings", "--output", "NAME,BACK-INO,BACK-MAJ:MIN"], {
        timeoutMs: 30_000,
      })
    ).stdout,
  detach: async (device) => {
    await exec("losetup", ["--detach", device], { timeoutMs: 30_000 });
  },
  mountinfo: () => readFileSync("/proc/self/mountinfo", "utf8"),
};

/**
 * Removes a cluster's state directory, its shared storage included: first the loop devices backed
 * by files of the shared storage are detached (call it once the nodes are gone: a device still
 * mounted in a node would only be marked to detach later), and nothing is removed when something
 * is mounted below the directory (a removal would reach into another filesystem). Returns the
 * devices it detached.
 */
export async function removeClusterState(name: string, deps: StateRemovalDeps = hostDeps): Promise<string[]> {
  const dir = clusterStateDir(name);
  const mounted = mountsUnder(dir, deps.mountinfo());
  if (mounted.length)
    throw new InfraError(
      `the state directory of cluster ${name} (${dir}) has filesystems mounted in it, so it is not removed: ${mounted.join(", ")}`,
      { fix: `unmount them (umount ${mounted.join(" ")}), then run volcert cluster sweep` },
    );
  const files = filesUnder(sharedStorageDir(name));
  const detached = files.length ? loopsBackedBy(parseLoopList(await deps.listLoops()), files) : [];
  for (const device of detached) await deps.detach(device);
  await rm(dir, { recursive: true, force: true });
  return detached;
}
