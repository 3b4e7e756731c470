/**
 * A run's lease: which process owns a journal (journal.ts), so `sweep` can tell a leftover of a
 * dead run from the cluster of a run in progress (another terminal, another CI job). A lease is
 * alive while its process is: same boot (the kernel's boot id) and the same process (pid and its
 * start time, so a recycled pid is not mistaken for the owner).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { journalRunIds, runsDir } from "./journal.ts";

export interface Lease {
  runId: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot). */
  startTime: string;
  bootId: string;
  startedAt: string;
  /** The command line, for people reading `sweep`'s listing. */
  command: string;
}

export function leaseFile(runId: string): string {
  return join(runsDir(), `${runId}.json`);
}

export function bootId(): string {
  return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
}

/** Start time of a process (null when there is no such process). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Takes the lease of this process for a run. */
export function takeLease(runId: string, command: string): Lease {
  const lease: Lease = {
    runId,
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? "",
    bootId: bootId(),
    startedAt: new Date().toISOString(),
    command,
  };
  mkdirSync(runsDir(), { recursive: true, mode: 0o700 });
  writeFileSync(leaseFile(runId), `${JSON.stringify(lease, null, 2)}\n`, { mode: 0o600 });
  return lease;
}

export function readLease(runId: string): Lease | null {
  const file = leaseFile(runId);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Lease;
  } catch {
    return null;
  }
}

export interface HostView {
  bootId: string;
  startTimeOf(pid: number): string | null;
}

const thisHost: HostView = { bootId: bootId(), startTimeOf: processStartTime };

/** Whether the lease's process is still running (a missing lease is a dead one). */
export function leaseAlive(lease: Lease | null, host: HostView = thisHost): boolean {
  if (!lease) return false;
  if (lease.bootId !== host.bootId) return false;
  const start = host.startTimeOf(lease.pid);
  return start !== null && start === lease.startTime;
}

/** Removes a finished run's lease and journal (only when the journal has nothing open). */
export function releaseRun(runId: string, journalFile: string, nothingOpen: boolean): void {
  if (!nothingOpen) return;
  rmSync(journalFile, { force: true });
  rmSync(leaseFile(runId), { force: true });
}

/** Runs on this machine that are alive now, other than `except`. */
export function otherLiveRuns(except?: string): Lease[] {
  const ids = new Set(journalRunIds());
  if (existsSync(runsDir()))
    for (const f of readdirSync(runsDir())) if (f.endsWith(".json")) ids.add(f.slice(0, -".json".length));
  return [...ids]
    .filter((id) => id !== except)
    .map(readLease)
    .filter((l): l is Lease => leaseAlive(l));
}
