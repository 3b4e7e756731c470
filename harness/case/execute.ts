/**
 * The case lifecycle, phase by phase, independent of Kubernetes so it can be unit-tested:
 *
 *   precheck → acquire → run          (the body's signal: the case budget)
 *   evidence (on failure) → heal → keep record (repro) → dispose → leak check
 *                                     (the cleanup's signal: its own allowance)
 *
 * The verdict: the body's failure wins (cleanup problems are reported next to it, never instead
 * of it); otherwise a fault that could not be healed, a disposal that failed, or a leak fails the
 * case, each blamed on whoever it belongs to.
 */
import { withSignal } from "../core/abort.ts";
import { DriverDefect, type InfraError } from "../core/errors.ts";
import { DisposalFailed, DisposalStack, type DisposalPolicy } from "../core/disposal.ts";

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
  /** What the case left behind (after disposal): empty when nothing. */
  leaks(): Promise<string[]>;
  /** Adds a text to the case's report. */
  report(name: string, text: string): Promise<void>;
}

export interface ExecuteOptions {
  caseId: string;
  policy: DisposalPolicy;
  bodySignal: AbortSignal;
  cleanupSignal: AbortSignal;
}

export async function executeCase<C>(phases: CasePhases<C>, opts: ExecuteOptions): Promise<void> {
  const stack = new DisposalStack();
  let failure: unknown;
  let failed = false;
  try {
    await withSignal(opts.bodySignal, async () => {
      await phases.precheck();
      await phases.run(await phases.acquire(stack));
    });
  } catch (err) {
    failure = err;
    failed = true;
  }
  await withSignal(opts.cleanupSignal, async () => {
    if (failed) await phases.evidence(failure);
    const healError = await phases.heal();
    if (opts.policy === "keep") await phases.keepRecord(failed ? failure : undefined);
    const disposals = await stack.dispose(opts.policy);
    const disposalError = disposals.length ? new DisposalFailed(disposals) : null;
    const cleanupErrors = [healError, disposalError].filter((e) => e !== null);
    if (failed) {
      for (const e of cleanupErrors) await phases.report("cleanup after the failure also failed", e.message);
      throw failure;
    }
    for (const e of cleanupErrors.slice(1)) await phases.report("cleanup also failed", e.message);
    if (cleanupErrors[0]) throw cleanupErrors[0];
    if (opts.policy === "keep") return; // nothing was cleaned up, so there is nothing to leak-check
    const leaks = await phases.leaks();
    if (leaks.length) {
      const error = new DriverDefect(
        `leak check failed after ${opts.caseId}:\n${leaks.map((l) => `  - ${l}`).join("\n")}`,
      );
      await phases.report("leaks", leaks.join("\n"));
      await phases.evidence(error);
      throw error;
    }
  });
}
