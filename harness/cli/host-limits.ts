/**
 * Kernel limits kind clusters need on a shared machine. Every kind node runs systemd, containerd
 * and a kubelet, each holding inotify instances of the host's root user; with the kernel's default
 * of 128 instances per user, a third cluster on one machine makes kube-proxy crash-loop ("too many
 * open files") and CSI node plugins stop registering, failures that look like the driver's. kind's
 * own documentation gives the values below. Raised (never lowered) for runs that create a
 * cluster, said on the console, and not persisted: a reboot restores the distribution's values.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { say } from "../core/progress.ts";

const LIMITS = [
  ["fs/inotify/max_user_instances", 512],
  ["fs/inotify/max_user_watches", 524_288],
] as const;

export function raiseKindLimits(): void {
  for (const [key, wanted] of LIMITS) {
    const file = `/proc/sys/${key}`;
    let now: number;
    try {
      now = Number(readFileSync(file, "utf8").trim());
    } catch {
      continue;
    }
    if (now >= wanted) continue;
    try {
      writeFileSync(file, `${wanted}\n`);
      say(`raised ${key.replace(/\//g, ".")} from ${now} to ${wanted} for kind's nodes (until the next reboot)`);
    } catch (err) {
      say(
        `warning: ${key.replace(/\//g, ".")} is ${now} (kind needs ${wanted} with several clusters) and could not be raised: ${(err as Error).message}; run \`sysctl -w ${key.replace(/\//g, ".")}=${wanted}\` as root`,
      );
    }
  }
}
