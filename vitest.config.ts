import { defineConfig } from "vitest/config";
import { CASE_CONCURRENCY_ENV, caseConcurrency, FILE_WORKERS_ENV, fileWorkers } from "./harness/cli/e2e-schedule.ts";
import { E2eFileOrder } from "./harness/cli/e2e-sequencer.ts";

/**
 * Projects (the CLI runs e2e and selftest together, then chaos alone):
 * - unit: fast, next to the code, recorded real outputs only, no cluster.
 * - e2e:  suites/ against a real cluster that the volcert CLI creates *before* starting Vitest and
 *         hands to the workers with provide/inject (so listing tests never creates a cluster).
 * - selftest: the suites must fail against the broken fixture drivers.
 * - chaos: disruptive NF cases, strictly one at a time.
 * Each case sets its own timeout from its driver's budget (harness/case/budget.ts); the project
 * timeouts below apply to the few tests that are not cases (cluster smoke). The CLI replaces the
 * reporters' output paths with the run's own.
 */
const onCluster = {
  // Registers the node seam for the cluster's provider, and classifies every failure by whose it is.
  setupFiles: ["clusters/worker-setup.ts", "harness/case/worker-setup.ts"],
  hookTimeout: 10 * 60_000,
  testTimeout: 10 * 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    reporters: [
      "default",
      ["junit", { suiteName: "volcert" }],
      ["allure-vitest/reporter", { resultsDir: "reports/allure-results", reportMatchers: false }],
    ],
    outputFile: { junit: "reports/junit.xml" },
    teardownTimeout: 5 * 60_000,
    // The smoke check, then the longest e2e suite files first, so none starts late and becomes the
    // tail (e2e-schedule.ts).
    sequence: { sequencer: E2eFileOrder },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["harness/**/*.test.ts", "clusters/**/*.test.ts", "fixtures/**/*.test.ts", "suites/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          ...onCluster,
          name: "e2e",
          include: ["suites/**/*.e2e.test.ts"],
          // Cases are independent (own namespace, storage class name and volume names): suite files
          // run in parallel and cases inside a file run concurrently: 3 files and 4 cases of each
          // next to chaos lanes, 5 and 10 alone (the CLI decides; harness/cli/e2e-schedule.ts).
          fileParallelism: true,
          maxWorkers: fileWorkers(process.env[FILE_WORKERS_ENV]),
          maxConcurrency: caseConcurrency(process.env[CASE_CONCURRENCY_ENV]),
        },
      },
      {
        extends: true,
        test: {
          ...onCluster,
          name: "selftest",
          include: ["suites/selftest/**/*.selftest.test.ts"],
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          ...onCluster,
          // Disruptive cases (faults in nodes and the control plane): one at a time, after the
          // other projects, so no fault ever lands on another case.
          name: "chaos",
          include: ["suites/chaos/**/*.chaos.test.ts", "suites/selftest/**/*.chaos.test.ts"],
          fileParallelism: false,
          maxWorkers: 1,
          maxConcurrency: 1,
        },
      },
    ],
  },
});
