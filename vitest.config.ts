import { defineConfig } from "vitest/config";

/**
 * Projects (the CLI runs e2e and selftest together, then chaos alone):
 * - unit: fast, next to the code, recorded real outputs only, no cluster.
 * - e2e:  suites/ against a real cluster that the volcert CLI creates *before* starting Vitest and
 *         passes in through VOLCERT_KUBECONFIG (so listing tests never creates a cluster).
 * - selftest: the suites must fail against the broken fixture drivers.
 * - chaos: disruptive NF cases, strictly one at a time.
 */
const resultsDir = process.env["VOLCERT_ALLURE_RESULTS"] ?? "reports/allure-results";

export default defineConfig({
  test: {
    reporters: [
      "default",
      ["junit", { suiteName: "volcert" }],
      ["allure-vitest/reporter", { resultsDir, reportMatchers: false }],
    ],
    outputFile: { junit: process.env["VOLCERT_JUNIT"] ?? "reports/junit.xml" },
    teardownTimeout: 5 * 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["harness/**/*.test.ts", "clusters/**/*.test.ts", "fixtures/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["suites/**/*.e2e.test.ts"],
          // Cases are independent (own namespace, storage class name and volume names): suite files
          // run in parallel and cases inside a file run concurrently. VOLCERT_PARALLEL bounds both.
          fileParallelism: true,
          maxWorkers: Math.min(3, Number(process.env["VOLCERT_PARALLEL"] ?? "4")),
          maxConcurrency: Number(process.env["VOLCERT_PARALLEL"] ?? "4"),
          testTimeout: 10 * 60_000,
          hookTimeout: 10 * 60_000,
          pool: "forks",
        },
      },
      {
        extends: true,
        test: {
          // volcert's own tests that need a cluster: the suites must fail against broken fixtures.
          name: "selftest",
          include: ["suites/selftest/**/*.selftest.test.ts"],
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 10 * 60_000,
          pool: "forks",
        },
      },
      {
        extends: true,
        test: {
          // Disruptive cases (faults in nodes and the control plane): one at a time, after the
          // other projects, so no fault ever lands on another case.
          name: "chaos",
          include: ["suites/chaos/**/*.chaos.test.ts", "suites/selftest/**/*.chaos.test.ts"],
          fileParallelism: false,
          maxWorkers: 1,
          maxConcurrency: 1,
          testTimeout: 20 * 60_000,
          hookTimeout: 10 * 60_000,
          pool: "forks",
        },
      },
    ],
  },
});
