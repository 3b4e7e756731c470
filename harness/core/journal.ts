/**
 * The run journal: every change a run makes to the machine or a cluster that outlives a process
 * (a cluster created or reused, a fault injected, a loop device attached, a DaemonSet patched) is
 * written here *before* it is made and cleared when it is undone. Whatever is still open when a
 * run ends (Ctrl-C, a crash, `kill -9`) is exactly what `volcert cluster heal` and `volcert
 * cluster sweep` have to restore or remove.
 *
 * One append-only JSON-lines file per run, `$VOLCERT_CACHE/runs/<runId>.jsonl`: the CLI and every
 * Vitest worker append to it (one `write` per line with O_APPEND, so lines of concurrent writers
 * never interleave), and reading folds "open" and "close" lines into the entries still open. Next
 * to it, `<runId>.json` is the run's lease (leases.ts): whether the process that owns the entries
 * is still alive.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "./cache-root.ts";

/** How to undo a change; everything needed is in the record (a later process heals it). */
export type JournalRecord =
  /** A kind cluster this run created (`created`) or runs on (`--reuse`). */
  | { kind: "cluster"; created: boolean }
  /** A loop device a case attaches in a node, backed by `file` there. */
  | { kind: "loop"; node: string; file: string }
  | FaultRecord;

/** A fault in a cluster: what `cluster heal` does for each is in harness/faults/restore.ts. */
export type FaultRecord =
  | { kind: "fault"; fault: "node-stopped"; node: string; address: string }
  | { kind: "fault"; fault: "node-paused"; node: string }
  | { kind: "fault"; fault: "kubelet-stopped"; node: string }
  | { kind: "fault"; fault: "partition"; node: string; device: string }
  | { kind: "fault"; fault: "taint"; node: string; key: string }
  | { kind: "fault"; fault: "cordon"; node: string }
  | {
      kind: "fault";
      fault: "daemonset-affinity";
      namespace: string;
      name: string;
      /** The pod template's affinity before the patch (null: there was none). */
      original: unknown;
    };

/** The cluster a journal's changes are made in. */
export interface JournalCluster {
  name: string;
  /** "kind": volcert's node shell reaches it; "kubeconfig": only the API does. */
  provider: "kind" | "kubeconfig";
  kubeconfig: string;
}

export interface JournalEntry {
  id: string;
  runId: string;
  /** What it is, for people: "node volcert-x-worker powered off". */
  what: string;
  at: string;
  cluster: JournalCluster;
  record: JournalRecord;
}

type Line = { op: "open"; entry: JournalEntry } | { op: "close"; id: string; at: string };

export function runsDir(): string {
  return join(cacheRoot(), "runs");
}

export function journalFile(runId: string): string {
  return join(runsDir(), `${runId}.jsonl`);
}

export class RunJournal {
  constructor(
    readonly runId: string,
    /** The cluster the changes recorded through `journaled` are made in. */
    readonly cluster: JournalCluster | null = null,
    readonly file: string = journalFile(runId),
  ) {}

  /** Records a change about to be made; returns the id to close it with once it is undone. */
  open(what: string, record: JournalRecord, cluster: JournalCluster): string {
    const id = randomBytes(6).toString("hex");
    this.append({ op: "open", entry: { id, runId: this.runId, what, at: new Date().toISOString(), cluster, record } });
    return id;
  }

  close(id: string): void {
    this.append({ op: "close", id, at: new Date().toISOString() });
  }

  /** The entries not closed yet, oldest first. */
  openEntries(): JournalEntry[] {
    return readJournal(this.file);
  }

  private append(line: Line): void {
    mkdirSync(runsDir(), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }
}

/** Open entries of one journal file; a torn last line (a crash mid-write) is ignored. */
export function readJournal(file: string): JournalEntry[] {
  if (!existsSync(file)) return [];
  return foldJournal(readFileSync(file, "utf8"));
}

export function foldJournal(text: string): JournalEntry[] {
  const open = new Map<string, JournalEntry>();
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if (line.op === "open") open.set(line.entry.id, line.entry);
    else if (line.op === "close") open.delete(line.id);
  }
  return [...open.values()];
}

/** Every run id with a journal on this machine. */
export function journalRunIds(): string[] {
  if (!existsSync(runsDir())) return [];
  return readdirSync(runsDir())
    .filter((f) => f.endsWith(".jsonl"))
    .map((f) => f.slice(0, -".jsonl".length))
    .sort();
}

let current: RunJournal | null = null;

/** The journal of the run this process works for (set once by the CLI or a worker's setup). */
export function useJournal(journal: RunJournal | null): void {
  current = journal;
}

export function currentJournal(): RunJournal | null {
  return current;
}

/**
 * Makes a change with its journal entry: written before `make`, closed when `undo` succeeds.
 * Without a journal (unit tests, commands outside a run) the change is made unrecorded.
 */
export async function journaled<T>(what: string, record: JournalRecord, make: () => Promise<T>): Promise<Journaled<T>> {
  const journal = currentJournal();
  const id = journal?.cluster ? journal.open(what, record, journal.cluster) : null;
  const value = await make();
  return {
    value,
    settle: () => {
      if (journal && id) journal.close(id);
    },
  };
}

export interface Journaled<T> {
  value: T;
  /** Clears the entry: call after the change is undone (or found already undone). */
  settle(): void;
}
