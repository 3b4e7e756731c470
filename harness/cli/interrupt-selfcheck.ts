/**
 * volcert's own proof that a stopped run leaves nothing behind, in the full `volcert test`, on
 * real clusters of their own (created next to the test run's, which is also the "two runs on one
 * engine" case):
 *  - Ctrl-C in the middle of a fault: a run with a chaos case gets SIGINT once its journal lists
 *    an injected fault; it must exit 130 with its report, and leave no node container, network,
 *    journal entry or lease behind.
 *  - kill -9 in the middle of a fault: a run keeping its cluster is killed with SIGKILL, its Vitest
 *    child group too (nothing of volcert survives to heal); the journal must list the fault,
 *    `volcert cluster heal` must restore it and report the cluster healthy, and `volcert cluster
 *    sweep` must then remove the cluster, its network and the journal.
 * A failure here is volcert's, never a driver's.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLUSTER_LABEL, clusterNetwork } from "../../clusters/kind/nodes.ts";
import { unstoppable } from "../core/abort.ts";
import { exec, startChild, type Child } from "../core/exec.ts";
import { readJournal, journalFile, runsDir, type JournalEntry } from "../core/journal.ts";
import { leaseFile, type Lease } from "../core/leases.ts";
import { say } from "../core/progress.ts";
import { waitFor } from "../core/wait.ts";
import type { Summary } from "../report/summary.ts";
import type { SuiteOutcome } from "./vitest-runner.ts";

const BIN = fileURLToPath(new URL("./bin.mjs", import.meta.url));
/** A chaos case that powers a node off early in its body. */
const FAULT_CASE = "NF-05";

export async function checkInterrupts(runId: string, runDir: string, stop: AbortSignal): Promise<SuiteOutcome> {
  const checks = await Promise.all([ctrlC(runId, runDir, stop), kill9(runId, runDir, stop)]);
  const failedTests: string[] = [];
  let skipped = 0;
  for (const [name, problems] of checks) {
    if (problems === null) {
      skipped++;
      say(`– ${name}: not checked, this run was stopped first (the run under test got the same stop and cleaned up)`);
    } else if (problems.length) {
      failedTests.push(name);
      say(`✘ ${name}:\n${problems.map((p) => `    ${p}`).join("\n")}`);
    } else say(`✔ ${name}`);
  }
  return {
    passed: checks.length - failedTests.length - skipped,
    failed: failedTests.length,
    skipped,
    failedTests,
    failureCategories: failedTests.map(() => "harness" as const),
    results: [],
  };
}

/**
 * This test run was stopped while the run under test was starting: that run got one SIGINT from
 * startRun and cleans up itself; it is waited for (under no signal, bounded), never signalled again.
 */
async function notChecked(child: Child, name: string): Promise<[string, null]> {
  await unstoppable(() => exitOf(child, "the run under test, stopping"));
  return [name, null];
}

async function ctrlC(runId: string, runDir: string, stop: AbortSignal): Promise<[string, string[] | null]> {
  const name = `volcert-int-${runId.slice(-4)}`;
  const reportDir = join(runDir, "interrupt-ctrl-c");
  const problems: string[] = [];
  const child = await startRun(name, reportDir, stop);
  const fault = await faultOf(child, reportDir, problems);
  if (stop.aborted) return notChecked(child, name);
  child.signal("SIGINT");
  const { code } = await exitOf(child, "the Ctrl-C'd run");
  if (code !== 130) problems.push(`exit code ${code}, not 130 (log: ${reportDir}.log)`);
  const summary = readSummary(reportDir);
  if (summary?.run.stopped !== "SIGINT") problems.push("summary.json does not say the run was stopped by SIGINT");
  problems.push(...(await leftoversOf(name)));
  if (fault && existsSync(journalFile(fault.runId)))
    problems.push(`its journal is still there: ${journalFile(fault.runId)}`);
  return [`Ctrl-C during a fault (${fault?.what ?? "no fault"}) leaves nothing behind`, problems];
}

async function kill9(runId: string, runDir: string, stop: AbortSignal): Promise<[string, string[] | null]> {
  const name = `volcert-k9-${runId.slice(-4)}`;
  const reportDir = join(runDir, "interrupt-kill-9");
  const problems: string[] = [];
  // Not --keep-cluster: after kill -9 nothing deletes it anyway, and if this test run is stopped
  // first, the child's own Ctrl-C handling removes it.
  const child = await startRun(name, reportDir, stop);
  const fault = await faultOf(child, reportDir, problems);
  if (stop.aborted) return notChecked(child, name);
  // Nothing of volcert survives: the CLI and its Vitest group, at once.
  for (const pid of childrenOf(child.pid)) signalGroup(pid, "SIGKILL");
  child.signal("SIGKILL");
  await exitOf(child, "the killed run");
  if (fault) {
    const open = readJournal(journalFile(fault.runId)).map((e) => e.what);
    if (!open.includes(fault.what)) problems.push(`after kill -9 the journal does not list "${fault.what}"`);
    const heal = await exec(process.execPath, [BIN, "cluster", "heal", name], {
      nothrow: true,
      timeoutMs: 10 * 60_000,
      logFile: join(runDir, "interrupt-heal.log"),
    });
    if (heal.exitCode !== 0) problems.push(`cluster heal exited ${heal.exitCode} (log: ${runDir}/interrupt-heal.log)`);
    if (!/is healthy/.test(heal.stdout + heal.stderr)) problems.push("cluster heal did not report the cluster healthy");
    const still = readJournal(journalFile(fault.runId)).filter((e) => e.record.kind === "fault");
    if (still.length) problems.push(`still open after heal: ${still.map((e) => e.what).join(", ")}`);
  }
  const sweep = await exec(process.execPath, [BIN, "cluster", "sweep"], {
    nothrow: true,
    timeoutMs: 10 * 60_000,
    logFile: join(runDir, "interrupt-sweep.log"),
  });
  if (sweep.exitCode !== 0)
    problems.push(`cluster sweep exited ${sweep.exitCode} (log: ${runDir}/interrupt-sweep.log)`);
  problems.push(...(await leftoversOf(name)));
  if (fault && existsSync(journalFile(fault.runId)))
    problems.push(`sweep left its journal: ${journalFile(fault.runId)}`);
  return [
    `kill -9 during a fault (${fault?.what ?? "no fault"}): cluster heal restores it, sweep removes the rest`,
    problems,
  ];
}

/** A run of the fault case; stopping this test run stops it the way Ctrl-C would (it cleans up). */
async function startRun(name: string, reportDir: string, stop: AbortSignal): Promise<Child> {
  const child = await startChild(
    process.execPath,
    [BIN, "run", "--name", name, "--driver", "csi-hostpath", "--case", FAULT_CASE, "--report-dir", reportDir],
    { logFile: `${reportDir}.log` },
  );
  const onStop = () => child.signal("SIGINT");
  stop.addEventListener("abort", onStop, { once: true });
  void child.exited.then(() => stop.removeEventListener("abort", onStop));
  return child;
}

/** The first fault the run's journal lists, or null with the reason added to `problems`. */
async function faultOf(child: Child, reportDir: string, problems: string[]): Promise<JournalEntry | null> {
  return firstFault(child, reportDir).catch((err: unknown) => {
    problems.push(`no fault was journaled: ${String(err)}`);
    return null;
  });
}

/** The run is found by its report directory (in its lease's command line). */
async function firstFault(child: Child, reportDir: string): Promise<JournalEntry> {
  let found: JournalEntry | undefined;
  let exited = false;
  void child.exited.then(() => (exited = true));
  await waitFor(
    `a fault in the journal of the run writing ${reportDir}`,
    async () => {
      if (exited) throw new Error(`the run ended first (log: ${reportDir}.log)`);
      const lease = leaseOf(reportDir);
      found = lease ? readJournal(journalFile(lease.runId)).find((e) => e.record.kind === "fault") : undefined;
      return { done: !!found, seen: lease ? `run ${lease.runId}, no fault yet` : "no lease yet" };
    },
    { timeoutMs: 15 * 60_000, intervalMs: 1000, blame: "infrastructure" },
  );
  return found as JournalEntry;
}

function leaseOf(reportDir: string): Lease | null {
  if (!existsSync(runsDir())) return null;
  for (const f of readdirSync(runsDir()).filter((f) => f.endsWith(".json"))) {
    try {
      const lease = JSON.parse(readFileSync(leaseFile(f.slice(0, -".json".length)), "utf8")) as Lease;
      if (lease.command.includes(reportDir)) return lease;
    } catch {
      // being written
    }
  }
  return null;
}

async function exitOf(child: Child, what: string): Promise<{ code: number | null }> {
  let result: { code: number | null } | undefined;
  void child.exited.then((r) => (result = r));
  await waitFor(`${what} to exit`, async () => ({ done: !!result, seen: "running" }), {
    timeoutMs: 10 * 60_000,
    intervalMs: 1000,
    blame: "infrastructure",
  });
  return result as { code: number | null };
}

function readSummary(reportDir: string): Summary | null {
  try {
    return JSON.parse(readFileSync(join(reportDir, "summary.json"), "utf8")) as Summary;
  } catch {
    return null;
  }
}

/** Node containers and the network of a cluster that should be gone. */
async function leftoversOf(name: string): Promise<string[]> {
  const left: string[] = [];
  const nodes = await exec("docker", ["ps", "-aq", "--filter", `label=${CLUSTER_LABEL}=${name}`], {
    timeoutMs: 60_000,
  });
  if (nodes.stdout.trim()) left.push(`node containers of ${name} remain`);
  const net = await exec("docker", ["network", "inspect", clusterNetwork(name)], { nothrow: true, timeoutMs: 60_000 });
  if (net.ok) left.push(`network ${clusterNetwork(name)} remains`);
  return left;
}

/** Direct children of a process (from /proc: no process is started to find them). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // not a group leader, or gone
  }
}
