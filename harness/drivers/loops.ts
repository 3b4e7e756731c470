/**
 * Loop devices belong to the host kernel, not to the node container that attached them: deleting a
 * kind cluster does not detach them. A device whose backing file is one of volcert's and is marked
 * "(deleted)" has lost its owner (the volume or the whole node is gone), so it is safe to detach.
 */
import { exec } from "../core/exec.ts";
import { otherLiveRuns } from "../core/leases.ts";
import { say } from "../core/progress.ts";

// After the node container is gone the kernel shows the path relative to its former volume
// (/lib/volcert-flex-loop/...), so match the directory name, not the full node path. csi-netstore
// and its broken variants keep their images in /var/lib/volcert-netstore/volcert-csi-netstore*/,
// a bind mount of the cluster's shared storage: relative to it, /volcert-csi-netstore*/volumes/...
// (inferred like the flex-loop case; a device whose image still exists is detached with the shared
// storage, clusters/kind/state.ts).
export const VOLCERT_LOOP_MARKERS = ["/volcert-flex-loop/", "/volcert/loop/", "/volcert-csi-netstore"];

export function orphanLoops(
  losetupList: string,
  markers: readonly string[] = VOLCERT_LOOP_MARKERS,
): { device: string; file: string }[] {
  const out: { device: string; file: string }[] = [];
  for (const line of losetupList.split("\n")) {
    const m = /^(\/dev\/loop\d+)\s+(.*?)\s*$/.exec(line.trim());
    if (!m) continue;
    const [, device, file] = m as unknown as [string, string, string];
    if (markers.some((k) => file.includes(k)) && file.endsWith("(deleted)")) out.push({ device, file });
  }
  return out;
}

/** An orphan after `losetup --detach`: the kernel keeps a device some mount or open file still holds. */
export interface DetachedLoop {
  device: string;
  file: string;
  /** Still listed after the detach: marked to go (autoclear) when its last holder lets go. */
  held: boolean;
}

/**
 * Detaches them, unless another volcert run is alive: a device of a live run's volume can look
 * orphaned for a moment (its file removed just before the detach), so while another run is going
 * they are left for `cluster sweep` once it has ended. `ownRunId`: the caller's run.
 */
export async function detachOrphanLoops(ownRunId?: string): Promise<DetachedLoop[]> {
  const others = otherLiveRuns(ownRunId);
  if (others.length) {
    say(
      `loop devices of deleted volumes are left for \`volcert cluster sweep\`: another volcert run is in progress (${others.map((l) => `pid ${l.pid}`).join(", ")})`,
    );
    return [];
  }
  const list = async () =>
    (await exec("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { nothrow: true })).stdout;
  const found = orphanLoops(await list());
  if (!found.length) return [];
  for (const l of found) await exec("losetup", ["--detach", l.device], { nothrow: true });
  // A device still in use (a mount in a mount namespace the host cannot see, an open file) only
  // gets its autoclear flag: it stays listed until then, and is said to be held, not detached.
  const after = orphanLoops(await list()).map((l) => l.device);
  return found.map((l) => ({ ...l, held: after.includes(l.device) }));
}

/** What a caller says about one detached (or held) orphan. */
export function describeDetached(l: DetachedLoop, what: string): string {
  return l.held
    ? `${what} ${l.device} (${l.file}) is still held by a mount or an open file this host cannot see: marked to detach (autoclear), the kernel frees it when its last holder goes; nothing else of volcert's uses it`
    : `detached ${what} ${l.device} (${l.file})`;
}
