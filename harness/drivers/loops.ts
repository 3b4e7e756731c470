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

/**
 * Detaches them, unless another volcert run is alive: a device of a live run's volume can look
 * orphaned for a moment (its file removed just before the detach), so while another run is going
 * they are left for `cluster sweep` once it has ended. `ownRunId`: the caller's run.
 */
export async function detachOrphanLoops(ownRunId?: string): Promise<{ device: string; file: string }[]> {
  const others = otherLiveRuns(ownRunId);
  if (others.length) {
    say(
      `loop devices of deleted volumes are left for \`volcert cluster sweep\`: another volcert run is in progress (${others.map((l) => `pid ${l.pid}`).join(", ")})`,
    );
    return [];
  }
  const r = await exec("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { nothrow: true });
  const found = orphanLoops(r.stdout);
  for (const l of found) await exec("losetup", ["--detach", l.device], { nothrow: true });
  return found;
}
