/**
 * A Vitest reporter of one line per case as it starts and ends, with its duration: the default
 * reporter prints a file's cases only when the whole file is done, and a chaos file runs for
 * many minutes in a cluster of its own (its lines are prefixed with the cluster's name).
 */
import type { Reporter, TestCase } from "vitest/node";

const MARK: Record<string, string> = { passed: "✔", failed: "✘", skipped: "–", pending: "…" };

export class CaseProgress implements Reporter {
  onTestCaseReady(test: TestCase): void {
    process.stdout.write(`▶ ${test.name}\n`);
  }

  onTestCaseResult(test: TestCase): void {
    const state = test.result().state;
    const ms = test.diagnostic()?.duration;
    const took = ms === undefined ? "" : ` (${(ms / 1000).toFixed(0)} s)`;
    process.stdout.write(`${MARK[state] ?? state} ${test.name}${state === "skipped" ? "" : took}\n`);
  }
}
