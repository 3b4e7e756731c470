/**
 * Runs a Vitest project in-process and returns counts. Vitest's own reporters (console, JUnit,
 * Allure) stay as configured in vitest.config.ts; nothing here replaces them.
 */
import { startVitest } from "vitest/node";

export interface SuiteOutcome {
  passed: number;
  failed: number;
  skipped: number;
  failedTests: string[];
  /** Results per test: full name → state; used for the driver × area summary. */
  results: { name: string; state: string; file: string }[];
}

export async function runVitestProject(project: string, env: Record<string, string>, filters: string[] = []): Promise<SuiteOutcome> {
  Object.assign(process.env, env);
  const vitest = await startVitest("test", filters, { project: [project], watch: false, run: true });
  const outcome: SuiteOutcome = { passed: 0, failed: 0, skipped: 0, failedTests: [], results: [] };
  for (const mod of vitest.state.getTestModules()) {
    for (const t of mod.children.allTests()) {
      const state = t.result().state;
      outcome.results.push({ name: t.fullName, state, file: mod.moduleId });
      if (state === "passed") outcome.passed++;
      else if (state === "failed") {
        outcome.failed++;
        outcome.failedTests.push(t.fullName);
      } else outcome.skipped++;
    }
    // A file that failed to load (syntax error, failed beforeAll) has no passing tests: count it.
    if (mod.state() === "failed" && ![...mod.children.allTests()].some((t) => t.result().state === "failed")) {
      outcome.failed++;
      outcome.failedTests.push(`${mod.moduleId} (module failed)`);
    }
  }
  await vitest.close();
  process.exitCode = 0;
  return outcome;
}
