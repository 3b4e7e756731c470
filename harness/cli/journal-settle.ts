/**
 * Acting on journal entries (harness/core/journal.ts) that a run left open: heal faults, detach
 * loop devices, delete clusters. Used at the end of every run (what a stopped case could not
 * undo), by `volcert cluster heal` (a kept or reused cluster) and by `volcert cluster sweep`
 * (leftovers of dead runs). Every entry is tried, whatever failed before it; each one done is
 * closed in its own run's journal; what failed is returned, with why.
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { kindNodeAccess } from "../../clusters/kind/nodes.ts";
import type { NodeAccess } from "../core/nodes.ts";
import { describeError } from "../core/errors.ts";
import { exec } from "../core/exec.ts";
import { RunJournal, type JournalCluster, type JournalEntry } from "../core/journal.ts";
import { say } from "../core/progress.ts";
import { restoreFault } from "../faults/restore.ts";
import { Kube } from "../k8s/kube.ts";

export interface SettleResult {
  done: string[];
  failed: string[];
}

function closeEntry(e: JournalEntry): void {
  new RunJournal(e.runId).close(e.id);
}

/**
 * One node access per kind cluster in this process: each holds its own shell sessions into the
 * nodes (clusters/kind/node-sessions.ts), so several journal entries of a cluster share them.
 */
const accesses = new Map<string, NodeAccess>();
function accessOf(cluster: string): NodeAccess {
  let a = accesses.get(cluster);
  if (!a) accesses.set(cluster, (a = kindNodeAccess(cluster)));
  return a;
}

/** Heals the faults among `entries` (last injected first). */
export async function healFaults(
  entries: readonly JournalEntry[],
  opts: { kubectl: string; clusterExists: (c: JournalCluster) => Promise<boolean> },
): Promise<SettleResult> {
  const result: SettleResult = { done: [], failed: [] };
  for (const e of [...entries].reverse()) {
    if (e.record.kind !== "fault") continue;
    if (!(await opts.clusterExists(e.cluster))) {
      // Deleted with its cluster: nothing is left to heal.
      closeEntry(e);
      continue;
    }
    try {
      const kube = existsSync(e.cluster.kubeconfig) ? new Kube(e.cluster.kubeconfig, opts.kubectl) : undefined;
      await restoreFault(e.record, {
        ...(kube ? { kube } : {}),
        ...(e.cluster.provider === "kind" ? { access: accessOf(e.cluster.name) } : {}),
      });
      closeEntry(e);
      result.done.push(`healed: ${e.what} (cluster ${e.cluster.name})`);
    } catch (err) {
      result.failed.push(`${e.what} (cluster ${e.cluster.name}): ${describeError(err)}`);
    }
  }
  return result;
}

/** Detaches the loop devices among `entries` and removes their backing files. */
export async function detachLoops(
  entries: readonly JournalEntry[],
  opts: { clusterExists: (c: JournalCluster) => Promise<boolean> },
): Promise<SettleResult> {
  const result: SettleResult = { done: [], failed: [] };
  for (const e of entries) {
    if (e.record.kind !== "loop") continue;
    const { node, file } = e.record;
    try {
      if (e.cluster.provider === "kind" && (await opts.clusterExists(e.cluster))) {
        const shell = accessOf(e.cluster.name).shell;
        await shell.exec(node, [
          "sh",
          "-c",
          'for d in $(losetup --associated "$1" --noheadings --output NAME 2>/dev/null); do losetup --detach "$d"; done; rm -f "$1"',
          "sh",
          file,
        ]);
      } else {
        // The node is gone; the device (the host kernel's) shows its file as "<path> (deleted)".
        const r = await exec("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], {
          timeoutMs: 30_000,
        });
        for (const line of r.stdout.split("\n")) {
          const [dev, back = ""] = line.trim().split(/\s+(.*)/);
          // The kernel shows the path relative to the node's former volume: match the file name
          // (a case's files are named after its namespace, so unique on the machine).
          if (dev && back.replace(/ \(deleted\)$/, "").endsWith(`/${basename(file)}`))
            await exec("losetup", ["--detach", dev], { timeoutMs: 30_000 });
        }
      }
      closeEntry(e);
      result.done.push(`detached: ${e.what}`);
    } catch (err) {
      result.failed.push(`${e.what}: ${describeError(err)}`);
    }
  }
  return result;
}

export function printSettle(title: string, r: SettleResult): void {
  for (const d of r.done) say(`  ${d}`);
  if (r.failed.length)
    say(`${title}: ${r.failed.length} could not be undone:\n${r.failed.map((f) => `  ✘ ${f}`).join("\n")}`);
}

export { closeEntry };
