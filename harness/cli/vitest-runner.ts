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

export async function runVitestProject(project: string | string[], env: Record<string, string>, filters: string[] = []): Promise<SuiteOutcome> {
  Object.assign(process.env, env);
  const vitest = await startVitest("test", filters, { project: Array.isArray(project) ? project : [project], watch: false, run: true });
  const outcome: SuiteOutcome = { passed: 0, failed: 0, skipped: 0, failedTests: [], results: [] };
  for (const mod of vitest.state.getTestModules()) {
    for (const t of mod.children.allTests()) {
      const state = t.result().state;
      outcome.results.push({ name: t.name, state, file: mod.moduleId });
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

/** "BD-03 unbound PV ... [intree-local]" → { id: "BD-03", area: "BD", driver: "intree-local" } */
export function parseCaseTitle(title: string): { id: string; area: string; driver: string } | null {
  const m = /^([A-Z]+)-(\d+)\b.*?(?:\[([a-z0-9-]+)\])?$/.exec(title.trim());
  if (!m) return null;
  return { id: `${m[1]}-${m[2]}`, area: m[1] as string, driver: m[3] ?? "(cluster)" };
}

/** Driver × area table of passed/failed/skipped counts. */
export function summaryTable(results: SuiteOutcome["results"]): string {
  const cells = new Map<string, Map<string, { p: number; f: number; s: number }>>();
  const areas = new Set<string>();
  for (const r of results) {
    const c = parseCaseTitle(r.name);
    if (!c) continue;
    areas.add(c.area);
    const row = cells.get(c.driver) ?? new Map();
    const cell = row.get(c.area) ?? { p: 0, f: 0, s: 0 };
    if (r.state === "passed") cell.p++;
    else if (r.state === "failed") cell.f++;
    else cell.s++;
    row.set(c.area, cell);
    cells.set(c.driver, row);
  }
  const cols = [...areas].sort();
  const width = Math.max(8, ...[...cells.keys()].map((k) => k.length));
  const lines = [`${"driver".padEnd(width)}  ${cols.map((a) => a.padEnd(12)).join("")}`];
  for (const [driver, row] of [...cells.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${driver.padEnd(width)}  ${cols.map((a) => {
      const c = row.get(a);
      return (c ? `${c.p}✔ ${c.f}✘ ${c.s}–` : "").padEnd(12);
    }).join("")}`);
  }
  return lines.join("\n");
}
