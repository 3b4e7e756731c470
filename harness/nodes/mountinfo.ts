/**
 * A node's mount table, from /proc/self/mountinfo (read in the node's mount namespace through the
 * node shell). One parser for every caller: leak checks, waits for a pod's mounts to go, evidence.
 * Format: proc(5), "/proc/[pid]/mountinfo".
 */
import type { NodeExecOptions, NodeShell } from "../core/nodes.ts";

export interface Mount {
  id: number;
  parentId: number;
  /** major:minor of the filesystem's device. */
  device: string;
  /** The directory of the filesystem that is mounted here ("/" unless a bind mount of a subtree). */
  root: string;
  mountPoint: string;
  options: string[];
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  propagation: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Parses mountinfo text; a line that does not have the format's fields is an error, not skipped. */
export function parseMountinfo(text: string): Mount[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((line) => {
      const fields = line.split(" ");
      const dash = fields.indexOf("-", 6);
      if (dash < 0 || fields.length < dash + 3)
        throw new Error(
          `not a mountinfo line (expected "id parent maj:min root mountpoint options ... - fstype source options"): ${line}`,
        );
      const [id, parentId, device, root, mountPoint, options] = fields as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      return {
        id: Number(id),
        parentId: Number(parentId),
        device,
        root: unescapeOctal(root),
        mountPoint: unescapeOctal(mountPoint),
        options: options.split(","),
        propagation: fields.slice(6, dash),
        fsType: fields[dash + 1] as string,
        source: unescapeOctal(fields[dash + 2] as string),
        superOptions: (fields[dash + 3] ?? "").split(",").filter(Boolean),
      };
    });
}

/** The kernel escapes space, tab, newline and backslash in paths as \ooo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mounts that belong to a pod: under the kubelet's directory of that pod UID (or bind mounts of it). */
export function mountsOfPod(mounts: readonly Mount[], podUid: string): Mount[] {
  const dir = `/pods/${podUid}/`;
  return mounts.filter((m) => m.mountPoint.includes(dir) || m.root.includes(dir));
}

/** The node's mountinfo as the kernel wrote it (for evidence). Throws if the node cannot be reached. */
export async function mountinfoText(shell: NodeShell, node: string, opts: NodeExecOptions = {}): Promise<string> {
  return (await shell.exec(node, ["cat", "/proc/self/mountinfo"], { timeoutMs: 30_000, ...opts })).stdout;
}

export async function readMounts(shell: NodeShell, node: string): Promise<Mount[]> {
  return parseMountinfo(await mountinfoText(shell, node));
}

/** The mounts of a pod left on a node (empty once the kubelet cleaned up after it). */
export async function podMountsOnNode(shell: NodeShell, node: string, podUid: string): Promise<Mount[]> {
  return mountsOfPod(await readMounts(shell, node), podUid);
}
