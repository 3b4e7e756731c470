/**
 * Files `cluster sweep` removes: unfinished image-cache outputs and temporary module copies of
 * builds that are not running (the caller checks the build lock first), and the journals and
 * leases of runs that have ended with nothing left open.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BUILDING_SUFFIX, cachePaths, isComplete } from "../../clusters/images/cache.ts";
import { loadManifest } from "../../clusters/images/manifest.ts";
import { buildPlan } from "../../clusters/images/plan.ts";
import { journalFile, journalRunIds, readJournal, runsDir } from "../core/journal.ts";
import { leaseAlive, leaseFile, readLease } from "../core/leases.ts";
import { say } from "../core/progress.ts";

const dirs = (p: string) =>
  existsSync(p) ? readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];

/** Outputs of directory-producing steps without their completion stamp, and the temporary dir. */
export async function removeUnfinishedBuilds(): Promise<number> {
  let removed = 0;
  for (const s of buildPlan(loadManifest())) {
    const stepDir = join(cachePaths.out(s.id, "x"), "..");
    for (const d of dirs(stepDir)) {
      const dir = join(stepDir, d.name);
      // Image steps leave only their build context, complete or not; a half-built one is renamed never.
      const unfinished = d.name.includes(BUILDING_SUFFIX) || (!s.images.length && !isComplete(dir));
      if (!unfinished) continue;
      say(`removing unfinished build output ${dir}`);
      rmSync(dir, { recursive: true, force: true });
      removed++;
    }
  }
  for (const d of dirs(cachePaths.tmp())) {
    say(`removing temporary build directory ${join(cachePaths.tmp(), d.name)}`);
    rmSync(join(cachePaths.tmp(), d.name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Deletes the journal and lease of every ended run with nothing left open. */
export function pruneJournals(): void {
  for (const runId of journalRunIds()) {
    if (leaseAlive(readLease(runId)) || readJournal(journalFile(runId)).length) continue;
    rmSync(journalFile(runId), { force: true });
    rmSync(leaseFile(runId), { force: true });
  }
  // Leases of runs that never wrote a journal line.
  if (!existsSync(runsDir())) return;
  for (const f of readdirSync(runsDir()).filter((f) => f.endsWith(".json"))) {
    const runId = f.slice(0, -".json".length);
    if (!existsSync(journalFile(runId)) && !leaseAlive(readLease(runId))) rmSync(leaseFile(runId), { force: true });
  }
}
