/**
 * The only place volcert starts processes. Every command gets a timeout, its output is captured,
 * and a failure is a CommandError that carries the command line, exit code and the tail of stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { appendFileSync, closeSync, openSync } from "node:fs";
import { appendFile, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { $, ProcessOutput } from "zx";
import { effectiveSignal } from "./abort.ts";
import { InfraError } from "./errors.ts";

export interface ExecOptions {
  cwd?: string;
  /** Added to (not replacing) the current environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Hard limit; the process is killed when it is reached. */
  timeoutMs?: number;
  input?: string | Buffer;
  /** Append the full command output here (long builds). */
  logFile?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  nothrow?: boolean;
  /** Kills the process when aborted; defaults to the current case's signal (see abort.ts). */
  signal?: AbortSignal;
}

export interface ExecResult {
  command: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  ok: boolean;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Process groups volcert started and that still run (commands and children). */
const live = new Set<number>();

export class CommandError extends InfraError {
  readonly result: ExecResult;
  constructor(result: ExecResult, logFile?: string) {
    const why = result.exitCode === null ? `was killed (${result.signal ?? "timeout"})` : `exited ${result.exitCode}`;
    const tail = lastLines(result.stderr || result.stdout, 15);
    super(
      `command ${why} after ${(result.durationMs / 1000).toFixed(1)}s: ${result.command}` +
        (tail ? `\n${indent(tail)}` : "") +
        (logFile ? `\n  full log: ${logFile}` : ""),
    );
    this.result = result;
  }
}

export function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quoteArg).join(" ");
}

export async function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const command = commandLine(cmd, args);
  const env = shellEnv(mergeEnv(opts.env));
  const started = Date.now();
  const signal = effectiveSignal(opts.signal);
  signal?.throwIfAborted();
  const shell = $({
    ...(signal ? { signal } : {}),
    quiet: true,
    nothrow: true,
    cwd: opts.cwd,
    env,
    input: opts.input,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    prefix: "",
    postfix: "",
    // Its own process group: a terminal's Ctrl-C reaches only volcert, which decides what to stop,
    // and a timeout or abort kills the command with everything it started (go build, debootstrap...).
    detached: true,
  });
  const running = shell`exec ${[cmd, ...args]}`;
  const pid = running.pid;
  // Tracked so a second Ctrl-C (volcert exits at once) kills its group too.
  if (pid) live.add(pid);
  const out: ProcessOutput = await running.finally(() => {
    if (pid) live.delete(pid);
  });
  signal?.throwIfAborted(); // killed because the case was aborted: say so, not "exited 143"
  const result: ExecResult = {
    command,
    exitCode: out.exitCode,
    signal: out.signal,
    stdout: out.stdout,
    stderr: out.stderr,
    durationMs: Date.now() - started,
    ok: out.exitCode === 0,
  };
  if (opts.logFile) await writeLog(opts.logFile, result);
  tallyCommand(started, result.exitCode ?? result.signal, cmd, args);
  if (!result.ok && !opts.nothrow) throw new CommandError(result, opts.logFile);
  return result;
}

/** Where every command of a run is tallied (set by the run for itself and its Vitest workers). */
export const SPAWN_LOG_ENV = "VOLCERT_SPAWN_LOG";

/**
 * One line per command (start, duration, exit, command and its first arguments): how many
 * processes a run starts and which, for `.ci/spawn-tally.mjs`. Commands that start no process of
 * their own are tallied too, under a name of their own (`node-session`: a command sent to a node's
 * long-lived shell, `pod-exec`: a command in a pod through the API), so a run's round trips all show.
 */
export function tallyCommand(
  started: number,
  /** The exit code, signal or HTTP status it ended with (null: none). */
  ended: number | string | null,
  cmd: string,
  args: readonly string[],
): void {
  const file = process.env[SPAWN_LOG_ENV];
  if (!file) return;
  const words = [cmd.split("/").pop() ?? cmd, ...args.slice(0, 8)].map((w) => w.replace(/[\t\n]/g, " ").slice(0, 80));
  try {
    appendFileSync(file, `${started}\t${Date.now() - started}\t${ended ?? ""}\t${words.join(" ")}\n`);
  } catch {
    // A diagnostic only: a run never fails for it.
  }
}

/**
 * A bash pipeline. Values go in as positional parameters ("$1"...), never spliced into the script,
 * so nothing a user typed is ever parsed by the shell.
 */
export async function execPipeline(
  script: string,
  params: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  return exec(
    "bash",
    ["-o", "errexit", "-o", "pipefail", "-o", "nounset", "-c", script, "volcert-pipeline", ...params],
    opts,
  );
}

/**
 * Start a long-lived daemon that outlives this process (dockerd when no init system manages it).
 * Output goes to `logFile`.
 */
export async function spawnDaemon(cmd: string, args: readonly string[], logFile: string): Promise<number> {
  await mkdir(dirname(logFile), { recursive: true });
  const fh = await open(logFile, "a");
  try {
    const child = spawn(cmd, [...args], { detached: true, stdio: ["ignore", fh.fd, fh.fd] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => resolve(child.pid ?? -1));
    });
    child.unref();
    return pid;
  } finally {
    await fh.close();
  }
}

/** How a child process ended. */
type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A long-lived process spoken to through its stdin and stdout (a node's shell session). */
export interface PipedChild {
  pid: number;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exited: Promise<Exit>;
  /** SIGKILL to its process group. */
  kill(): void;
}

/**
 * Starts a process that lives as long as it is used: in its own process group (a terminal's
 * Ctrl-C does not reach it; volcert decides), never keeping volcert alive by itself (unreferenced;
 * when volcert exits its stdin closes and it ends), and killed with the other children on a second
 * Ctrl-C.
 */
export async function startPiped(cmd: string, args: readonly string[]): Promise<PipedChild> {
  const child = spawn(cmd, [...args], { detached: true, stdio: ["pipe", "pipe", "pipe"], env: shellEnv(mergeEnv({})) });
  const started = Date.now();
  const { pid, exited } = await tracked(child, "close");
  void exited.then(({ code, signal }) => tallyCommand(started, code ?? signal, cmd, args));
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  child.stdin.on("error", () => undefined); // EPIPE when it died: its exit is what callers see
  return {
    pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill: () => signalPid(-pid, "SIGKILL"),
  };
}

/** Signals the process group of every command and child still running (giving up on a run). */
export function signalChildren(sig: NodeJS.Signals): void {
  for (const pid of live) signalPid(-pid, sig);
}

/**
 * Waits for a child to start and keeps its process group among the live ones until it ends
 * (`ended`: "exit", or "close" to wait for its output streams too).
 */
async function tracked(child: ChildProcess, ended: "exit" | "close"): Promise<{ pid: number; exited: Promise<Exit> }> {
  const exited = new Promise<Exit>((resolve) => child.once(ended, (code, signal) => resolve({ code, signal })));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => resolve(child.pid ?? -1));
  });
  live.add(pid);
  void exited.then(() => live.delete(pid));
  return { pid, exited };
}

/** process.kill that ignores a process already gone (a negative pid: its group). */
function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export interface Child {
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** Sends a signal to the child only (as a terminal's Ctrl-C reaches a foreground volcert). */
  signal(sig: NodeJS.Signals): void;
  /** Sends a signal to the child's whole process group. */
  signalGroup(sig: NodeJS.Signals): void;
}

/**
 * A child process whose output goes straight to the terminal (a Vitest run), in its own process
 * group, with an IPC channel: when volcert dies, the channel closes and the child knows to stop.
 */
export async function startChild(
  cmd: string,
  args: readonly string[],
  opts: { env?: ExecOptions["env"]; cwd?: string; /** Output here instead of the terminal. */ logFile?: string } = {},
): Promise<Child> {
  let out: "inherit" | number = "inherit";
  if (opts.logFile) {
    await mkdir(dirname(opts.logFile), { recursive: true });
    out = openSync(opts.logFile, "a");
  }
  const child = spawn(cmd, [...args], {
    detached: true,
    stdio: ["ignore", out, out, "ipc"],
    env: mergeEnv(opts.env),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (typeof out === "number") closeSync(out);
  const { pid, exited } = await tracked(child, "exit");
  return {
    pid,
    exited,
    signal: (sig) => signalPid(pid, sig),
    signalGroup: (sig) => signalPid(-pid, sig),
  };
}

/**
 * The environment of the shell zx starts each command in (`bash -c "exec cmd args"`). Bash runs
 * the user's ~/.bashrc even for `-c` when its stdin is a socket (Node's pipes are) and SHLVL makes
 * it a top-level shell (npm starts scripts with SHLVL=0): on the machine of 2026-12-03, whose
 * ~/.bashrc sets up pyenv, that was 255 more processes and 140 ms of CPU per command (about 360
 * CPU-seconds of a main job's 2583 commands), and once pyenv's error on a case's kubectl exec
 * stderr (AM-10 failed, blamed on the driver). SHLVL of at least 1 makes it a nested shell, and
 * without BASH_ENV no startup file runs at all.
 */
export function shellEnv(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  delete out["BASH_ENV"];
  if (!(Number(out["SHLVL"]) >= 1)) out["SHLVL"] = "1";
  return out;
}

function mergeEnv(extra: ExecOptions["env"]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

async function writeLog(file: string, r: ExecResult): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(
    file,
    `\n$ ${r.command}\n${r.stdout}${r.stderr}\n[exit ${r.exitCode ?? r.signal} after ${(r.durationMs / 1000).toFixed(1)}s]\n`,
  );
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
