/**
 * Runs Vitest projects and returns counts and, for every failure, whose it is. Vitest runs in a
 * child process (harness/cli/vitest-child.ts) in its own process group: volcert's own process
 * survives Ctrl-C, a crashed or stuck Vitest, and stays the one that heals, cleans up and reports.
 * The run context goes to the workers with Vitest's provide/inject; reporters (console, JUnit,
 * Allure) are given here, with this run's paths, so nothing reaches the workers through the
 * environment.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { categoryOf, HarnessBug, type ErrorCategory } from "../core/errors.ts";
import { startChild } from "../core/exec.ts";
import { followLines } from "../core/follow.ts";
import { CaseProgress } from "./case-progress.ts";
import { CASE_CONCURRENCY_ENV, FILE_WORKERS_ENV } from "./e2e-schedule.ts";
import { markStopped } from "../core/interrupt.ts";
import { RUN_CONTEXT_KEY, type RunContext } from "../core/run-context.ts";
export interface SuiteOutcome {
  passed: number;
  failed: number;
  skipped: number;
  failedTests: string[];
  /** Whose failure each failed test is (driver, infrastructure, volcert, config). */
  failureCategories: ErrorCategory[];
  /** Results per test: used for the driver × area summary, the verdicts and summary.json. */
  results: TestOutcome[];
}

export interface TestOutcome {
  name: string;
  state: string;
  file: string;
  startTime?: number;
  durationMs?: number;
  /** Whose failure it is (failed tests). */
  blame?: ErrorCategory;
  /** Why it was skipped (the gate's reason). */
  skipReason?: string;
}

export interface VitestRun {
  projects: string[];
  /** File filters ([] = every file of the projects). */
  files?: string[];
  testNamePattern?: string | undefined;
  /** Cases of one e2e file at a time (vitest.config.ts reads it; unset: its default). */
  caseConcurrency?: number;
  /** e2e files at a time (vitest.config.ts reads it; unset: its default). */
  fileWorkers?: number;
  /** Provided to the workers (suites on a cluster); absent for unit tests. */
  context?: RunContext;
  allureResultsDir: string;
  junitFile: string;
  /**
   * Vitest's console output goes to a log file next to the JUnit file and is echoed line by line
   * with this prefix (runs at the same time as others, whose output would otherwise interleave).
   */
  outputPrefix?: string;
}

const CHILD = fileURLToPath(new URL("./vitest-child.mjs", import.meta.url));

/**
 * Runs the projects in a Vitest child process. `stop`, when aborted (Ctrl-C, SIGTERM, the
 * deadline), sends SIGINT to the child's process group: the workers stop their cases' bodies,
 * heal and clean up, later cases skip, and Vitest ends normally with its reports written.
 */
export async function runVitestProject(spec: VitestRun, stop?: AbortSignal): Promise<SuiteOutcome> {
  const dir = join(dirname(spec.junitFile), ".vitest");
  await mkdir(dir, { recursive: true });
  const base = join(dir, basename(spec.junitFile, ".xml"));
  const specFile = `${base}.spec.json`;
  const outcomeFile = `${base}.outcome.json`;
  await writeFile(specFile, JSON.stringify({ spec, outcomeFile } satisfies ChildSpec));
  const logFile = spec.outputPrefix ? `${base}.log` : undefined;
  const child = await startChild(process.execPath, [CHILD, specFile], logFile ? { logFile } : {});
  const echo = logFile ? followLines(logFile, (line) => process.stdout.write(`${spec.outputPrefix} ${line}\n`)) : null;
  const onStop = () => {
    if (spec.context) markStopped(spec.context.stopFile, "stopped");
    child.signalGroup("SIGINT");
  };
  stop?.addEventListener("abort", onStop, { once: true });
  if (stop?.aborted) onStop();
  try {
    const { code, signal } = await child.exited;
    const text = await readFile(outcomeFile, "utf8").catch(() => null);
    if (text === null) {
      throw new HarnessBug(
        `Vitest (${spec.projects.join(", ")}) ended ${signal ? `by ${signal}` : `with exit code ${code}`} without writing its results (${outcomeFile})`,
      );
    }
    return JSON.parse(text) as SuiteOutcome;
  } finally {
    stop?.removeEventListener("abort", onStop);
    echo?.stop();
  }
}

export interface ChildSpec {
  spec: VitestRun;
  outcomeFile: string;
}

/** In the Vitest child process: runs the projects in-process and returns the outcome. */
export async function runVitestInProcess(spec: VitestRun): Promise<SuiteOutcome> {
  const keep = new Set([...process.listeners("SIGINT"), ...process.listeners("SIGTERM")]);
  const { createVitest } = await import("vitest/node");
  // maxConcurrency and maxWorkers are project settings that Vitest takes from the config only, not
  // from these options: the config reads them from this child's environment while createVitest
  // loads it, and the variables are removed after, so they reach neither the workers nor the
  // commands they start.
  const settings: [string, number | undefined][] = [
    [CASE_CONCURRENCY_ENV, spec.caseConcurrency],
    [FILE_WORKERS_ENV, spec.fileWorkers],
  ];
  const previous = settings.map(([name]) => [name, process.env[name]] as const);
  for (const [name, value] of settings) if (value) process.env[name] = String(value);
  const vitest = await createVitest("test", {
    project: spec.projects,
    watch: false,
    run: true,
    reporters: [
      "default",
      // Cases as they start and end (the default reporter waits for the whole file).
      ...(spec.outputPrefix ? [new CaseProgress()] : []),
      ["junit", { suiteName: "volcert" }],
      ["allure-vitest/reporter", { resultsDir: spec.allureResultsDir, reportMatchers: false }],
    ],
    outputFile: { junit: spec.junitFile },
    ...(spec.testNamePattern ? { testNamePattern: spec.testNamePattern } : {}),
  }).finally(() => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  if (spec.context) vitest.provide(RUN_CONTEXT_KEY, spec.context);
  // Vitest's reporter exits the process on SIGINT/SIGTERM; in the child, a signal means "stop the
  // cases in progress gracefully", which the workers do themselves (harness/core/interrupt.ts).
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    for (const l of process.listeners(sig)) if (!keep.has(l)) process.off(sig, l);
  }
  const outcome: SuiteOutcome = {
    passed: 0,
    failed: 0,
    skipped: 0,
    failedTests: [],
    failureCategories: [],
    results: [],
  };
  try {
    await vitest.start(spec.files ?? []);
    for (const mod of vitest.state.getTestModules()) {
      for (const t of mod.children.allTests()) {
        const result = t.result();
        const diag = t.diagnostic();
        const category = result.state === "failed" ? (t.meta().volcertBlame ?? categoryOf(result.errors?.[0])) : null;
        outcome.results.push({
          name: t.name,
          state: result.state,
          file: mod.moduleId,
          ...(diag ? { startTime: diag.startTime, durationMs: diag.duration } : {}),
          ...(category ? { blame: category } : {}),
          ...(result.state === "skipped" && result.note ? { skipReason: result.note } : {}),
        });
        if (result.state === "passed") outcome.passed++;
        else if (category) {
          outcome.failed++;
          outcome.failureCategories.push(category);
          outcome.failedTests.push(`${t.fullName}  [${category}]`);
        } else outcome.skipped++;
      }
      // A file that failed to load (syntax error, failed beforeAll) has no passing tests: count it.
      if (mod.state() === "failed" && ![...mod.children.allTests()].some((t) => t.result().state === "failed")) {
        outcome.failed++;
        const category = categoryOf(mod.errors()[0]);
        outcome.failureCategories.push(category);
        outcome.failedTests.push(`${mod.moduleId} (module failed)  [${category}]`);
      }
    }
  } finally {
    await vitest.close();
  }
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
    lines.push(
      `${driver.padEnd(width)}  ${cols
        .map((a) => {
          const c = row.get(a);
          return (c ? `${c.p}✔ ${c.f}✘ ${c.s}–` : "").padEnd(12);
        })
        .join("")}`,
    );
  }
  return lines.join("\n");
}

/**
 * Per-area time: wall (first case start → last case end; cases of an area overlap with each
 * other and with other areas) and the sum of case durations. Skipped cases take no time.
 */
export function areaTimes(results: SuiteOutcome["results"]): string {
  const areas = new Map<string, { start: number; end: number; sum: number; cases: number }>();
  for (const r of results) {
    const c = parseCaseTitle(r.name);
    if (!c || r.startTime === undefined || r.durationMs === undefined || r.state === "skipped") continue;
    const a = areas.get(c.area) ?? { start: Number.POSITIVE_INFINITY, end: 0, sum: 0, cases: 0 };
    a.start = Math.min(a.start, r.startTime);
    a.end = Math.max(a.end, r.startTime + r.durationMs);
    a.sum += r.durationMs;
    a.cases++;
    areas.set(c.area, a);
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
  return [...areas.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([area, a]) =>
        `  ${area.padEnd(6)} ${String(a.cases).padStart(3)} cases  wall ${s(a.end - a.start).padStart(6)}  summed ${s(a.sum).padStart(6)}`,
    )
    .join("\n");
}
