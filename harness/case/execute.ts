/**
 * The case lifecycle, phase by phase, independent of Kubernetes so it can be unit-tested:
 *
 *   precheck → acquire → run          (the body's signal: the case budget)
 *   evidence (on failure) → heal → keep record (repro) or leak scope → dispose → leak check
 *                                     (the cleanup's signal: its own allowance)
 *
 * The verdict: the body's failure wins (cleanup problems and the leak check's result are reported
 * next to it, as steps of their own, never instead of it); otherwise a fault that could not be
 * healed, a disposal that failed, or the leak check fails the case, each blamed on whoever it
 * belongs to. The leak check runs whenever the case's objects were disposed, passed or failed.
 */
import { withSignal } from "../core/abort.ts";
import { DriverDefect, HarnessBug, VolcertError, type InfraError } from "../core/errors.ts";
import { DisposalFailed, DisposalStack, type DisposalPolicy } from "../core/disposal.ts";
import { leakError, renderLeakReport, type LeakReport } from "../evidence/leak-report.ts";

export interface CasePhases<C> {
  /** Checks before anything is created (disruptive cases: the cluster is healthy). */
  precheck(): Promise<void>;
  /** Creates what every case gets (its namespace...), registering each disposal on `stack`. */
  acquire(stack: DisposalStack): Promise<C>;
  run(ctx: C): Promise<void>;
  /** Attaches evidence of a failure (must not throw: a failing collector is reported inside). */
  evidence(failure: unknown): Promise<void>;
  /** Heals faults and checks the cluster (disruptive cases); returns the problem, never throws. */
  heal(): Promise<InfraError | DriverDefect | null>;
  /** Repro mode: records where the kept objects are. */
  keepRecord(failure: unknown): Promise<void>;
  /** Before disposal: reads what the leak check must look for (the case's pods and volumes); never throws. */
  leakScope(): Promise<void>;
  /** What the case left behind (after disposal), and what could not be looked at; null if the case created nothing. */
  leaks(): Promise<LeakReport | null>;
  /** Adds a text to the case's report. */
  report(name: string, text: string): Promise<void>;
  /** Adds a step to the case's report: passed, or failed with its own error (next to the verdict). */
  step(name: string, error?: VolcertError): Promise<void>;
}

export interface ExecuteOptions {
  caseId: string;
  policy: DisposalPolicy;
  bodySignal: AbortSignal;
  cleanupSignal: AbortSignal;
  /** Called once at the end, passed or failed, with how long each phase took (ms, in order). */
  onTimings?: (laps: readonly (readonly [phase: string, ms: number])[]) => void | Promise<void>;
}

export async function executeCase<C>(phases: CasePhases<C>, opts: ExecuteOptions): Promise<void> {
  const stack = new DisposalStack();
  const clock = lapClock();
  let failure: unknown;
  let failed = false;
  try {
    await withSignal(opts.bodySignal, async () => {
      await phases.precheck();
      clock.lap("precheck");
      const ctx = await phases.acquire(stack);
      clock.lap("acquire");
      await phases.run(ctx);
    });
  } catch (err) {
    failure = err;
    failed = true;
  }
  clock.lap("body");
  try {
    await cleanup();
  } finally {
    await opts.onTimings?.(clock.laps);
  }

  async function cleanup(): Promise<void> {
    await withSignal(opts.cleanupSignal, async () => {
      if (failed) {
        await phases.evidence(failure);
        clock.lap("evidence");
      }
      const healError = await phases.heal();
      clock.lap("heal");
      if (opts.policy === "keep") await phases.keepRecord(failed ? failure : undefined);
      else await phases.leakScope();
      clock.lap("leak scope");
      const disposals = await stack.dispose(opts.policy);
      clock.lap("dispose");
      const disposalError = disposals.length ? new DisposalFailed(disposals) : null;
      const cleanupErrors = [healError, disposalError].filter((e) => e !== null);
      // repro's keep policy cleaned nothing up, so there is nothing to leak-check
      const leaks = opts.policy === "keep" ? null : await leakCheck(phases, opts.caseId, failed);
      clock.lap("leak check");
      if (failed) {
        for (const e of cleanupErrors) await phases.report("cleanup after the failure also failed", e.message);
        throw failure;
      }
      const errors = [...cleanupErrors, ...(leaks ? [leaks] : [])];
      for (const e of errors.slice(1)) await phases.report("cleanup also failed", e.message);
      if (errors[0] === leaks && leaks) await phases.evidence(leaks);
      if (errors[0]) throw errors[0];
    });
  }
}

/** Wall time per phase: each lap is the time since the previous one. */
function lapClock(): { lap(phase: string): void; laps: [string, number][] } {
  let last = performance.now();
  const laps: [string, number][] = [];
  return {
    laps,
    lap(phase) {
      const now = performance.now();
      laps.push([phase, Math.round(now - last)]);
      last = now;
    },
  };
}

/**
 * Runs the leak check and reports it as a step of its own; returns its failure. After a failed
 * case the check must not throw over the case's own error, so a check that breaks is reported too.
 */
async function leakCheck<C>(
  phases: CasePhases<C>,
  caseId: string,
  afterFailure: boolean,
): Promise<VolcertError | null> {
  const name = afterFailure ? "leak check after the failure" : "leak check";
  let report: LeakReport | null;
  try {
    report = await phases.leaks();
  } catch (err) {
    if (!afterFailure) throw err;
    const error = err instanceof VolcertError ? err : new HarnessBug(`the leak check broke: ${String(err)}`);
    await phases.step(`${name}: could not run`, error);
    return error;
  }
  if (!report) return null;
  const error = leakError(caseId, report);
  await phases.report(name, renderLeakReport(report));
  await phases.step(
    error ? `${name}: ${error.category === "driver" ? "leaks found" : "incomplete"}` : `${name}: clean`,
    error ?? undefined,
  );
  return error;
}
