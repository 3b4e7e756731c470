/**
 * Ctrl-C, SIGTERM and the run's deadline, as one abort signal. The first signal aborts the run:
 * every wait and command of the run honours it (abort.ts makes it the ambient signal), cases in
 * progress stop their bodies and heal their faults, and the CLI then heals what the journal still
 * lists, removes what the run created (unless kept), writes the report of what ran and exits
 * 130 (SIGINT), 143 (SIGTERM) or 124 (deadline). A second signal stops waiting: it says what is
 * still left (the journal's open entries) and exits at once.
 *
 * Cleanup runs under its own signal (`cleanupSignal`), aborted only by the second signal, so the
 * first Ctrl-C never cuts the cleanup it asked for.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { withSignal } from "./abort.ts";
import { VolcertError } from "./errors.ts";
import { say } from "./progress.ts";

export type StopReason = "SIGINT" | "SIGTERM" | "deadline";

export const STOP_EXIT_CODES: Record<StopReason, number> = { SIGINT: 130, SIGTERM: 143, deadline: 124 };

/** The run was stopped (not a verdict on anything: the cases it cut short are reported as not run). */
export class RunStopped extends VolcertError {
  readonly category = "infrastructure" as const;
  constructor(readonly reason: StopReason) {
    super(reason === "deadline" ? "the run's --deadline was reached" : `the run was interrupted (${reason})`);
  }
}

export interface RunStop {
  /** Aborted by the first signal or the deadline. */
  readonly signal: AbortSignal;
  /** Aborted by the second signal: cleanup gives up too. */
  readonly cleanupSignal: AbortSignal;
  /** Why the run stopped, or null while it runs. */
  reason(): StopReason | null;
  /** Removes the handlers (the run is over). */
  dispose(): void;
}

export interface StopHandlers {
  /** Said on the first signal (what happens now). */
  onStop(reason: StopReason): void;
  /** On the second signal: say what is left; the process then exits with the first signal's code. */
  onGiveUp(reason: StopReason): void;
  deadlineMs?: number;
}

export function handleStops(h: StopHandlers): RunStop {
  const run = new AbortController();
  const cleanup = new AbortController();
  let reason: StopReason | null = null;
  const stop = (why: StopReason) => {
    if (!reason) {
      reason = why;
      h.onStop(why);
      run.abort(new RunStopped(why));
      return;
    }
    if (why === "deadline") return;
    cleanup.abort(new RunStopped(why));
    h.onGiveUp(reason);
    process.exit(STOP_EXIT_CODES[reason]);
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const timer = h.deadlineMs ? setTimeout(() => stop("deadline"), h.deadlineMs) : null;
  timer?.unref();
  return {
    signal: run.signal,
    cleanupSignal: cleanup.signal,
    reason: () => reason,
    dispose() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * In a test worker: SIGINT or SIGTERM (sent by the CLI to the workers' process group) aborts the
 * cases in progress, whose cleanup still runs (it has its own signal), and makes later cases skip.
 */
const workerStop = new AbortController();
let listening = false;

/**
 * Only SIGINT: the CLI sends it for Ctrl-C and SIGTERM alike, and SIGTERM stays Vitest's way to
 * end a worker. Setup files run once per test file, hence the guard.
 */
export function stopWorkerOnSignals(stopFile: string): void {
  if (listening) return;
  listening = true;
  const stop = () => {
    if (!workerStop.signal.aborted) workerStop.abort(new RunStopped("SIGINT"));
  };
  process.on("SIGINT", stop);
  // A worker started after the signal (Vitest starts one per test file) learns it here.
  if (existsSync(stopFile)) stop();
}

/** Tells the run's later workers that it was stopped (see RunContext.stopFile). */
export function markStopped(stopFile: string, reason: string): void {
  try {
    mkdirSync(dirname(stopFile), { recursive: true });
    writeFileSync(stopFile, `${reason}\n`);
  } catch {
    // the run directory is gone: no worker will start either
  }
}

export function workerStopSignal(): AbortSignal {
  return workerStop.signal;
}

export function isRunStopped(err: unknown): err is RunStopped {
  return err instanceof RunStopped || (err instanceof Error && err.name === "RunStopped");
}

/**
 * A command other than a run (`images build`, `cluster up`) under the same stop handling: Ctrl-C
 * aborts its commands and waits, `undo` runs under the cleanup signal, and the exit code says it
 * was stopped.
 */
export async function stoppable(
  what: string,
  fn: () => Promise<void>,
  undo: () => Promise<void> = async () => undefined,
): Promise<void> {
  const stop = handleStops({
    onStop: (why) => say(`\n${why} received: stopping ${what}. Press Ctrl-C again to stop at once.`),
    onGiveUp: () => say(`stopped at once: ${what} may have left a half-built output (\`volcert cluster sweep\`)`),
  });
  try {
    await withSignal(stop.signal, fn);
  } catch (err) {
    const why = stop.reason();
    if (!why) throw err;
    await withSignal(stop.cleanupSignal, undo);
    say(`stopped: ${what}`);
    process.exitCode = STOP_EXIT_CODES[why];
  } finally {
    stop.dispose();
  }
}
