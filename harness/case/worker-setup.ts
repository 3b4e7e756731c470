/**
 * Vitest setup for the suites that run on a cluster: every failed test is classified once, here,
 * by whose failure it is (harness/core/errors.ts categoryOf; a failed self-test is volcert's). The class goes into the test's
 * metadata, where the CLI reads it to compute the exit code, and onto the Allure result, where
 * the report's categories (driver defect, infrastructure, volcert bug) match it.
 */
import { beforeEach, inject } from "vitest";
import { categoryOf, clusterCaseCategory, type ErrorCategory } from "../core/errors.ts";
import { stopWorkerOnSignals } from "../core/interrupt.ts";
import { RunJournal, useJournal } from "../core/journal.ts";
import { RUN_CONTEXT_KEY, type RunContext } from "../core/run-context.ts";
import { labelFailedTask } from "../evidence/allure.ts";

// Faults and loop devices a case makes go to the run's journal before they are made; Ctrl-C (the
// CLI's SIGINT to this process group) stops the cases in progress, whose cleanup still runs.
const run: RunContext | undefined = inject(RUN_CONTEXT_KEY);
if (run) {
  useJournal(
    new RunJournal(
      run.runId,
      { name: run.cluster.name, provider: run.cluster.provider, kubeconfig: run.cluster.kubeconfig },
      run.journal,
    ),
  );
  stopWorkerOnSignals(run.stopFile);
}

declare module "vitest" {
  interface TaskMeta {
    volcertBlame?: ErrorCategory;
  }
}

beforeEach(({ onTestFailed }) => {
  onTestFailed(({ task }) => {
    // A self-test that fails means volcert did not catch a broken driver: volcert's failure.
    const selfTest = task.file.filepath.includes("/suites/selftest/");
    const category = selfTest ? "harness" : clusterCaseCategory(task.name, categoryOf(task.result?.errors?.[0]));
    task.meta.volcertBlame = category;
    labelFailedTask(task, category);
  });
});
