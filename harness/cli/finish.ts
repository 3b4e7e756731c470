/**
 * The end of a run: the console summary, the certification verdict per driver, summary.json, the
 * results bundles, and the exit code computed from whose the failures are.
 */
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { describeError, exitCodeForFailures, type ErrorCategory } from "../core/errors.ts";
import { STOP_EXIT_CODES, type StopReason } from "../core/interrupt.ts";
import { formatDuration, say } from "../core/progress.ts";
import { volcertVersion } from "../core/version.ts";
import { driverFilePaths } from "../drivers/load.ts";
import { writeBundle } from "../report/bundle.ts";
import { describeDriver, evidenceByTest, SUMMARY_SCHEMA, writeSummary, type Summary } from "../report/summary.ts";
import { profileFor, verdictFor, type CaseResult } from "../report/verdict.ts";
import type { AvailableDriver } from "./driver-args.ts";
import type { RunOptions, RunPlan } from "./plan.ts";
import { areaTimes, parseCaseTitle, summaryTable, type SuiteOutcome } from "./vitest-runner.ts";

export interface FinishInput {
  outcomes: Record<string, SuiteOutcome>;
  started: number;
  report: string | null;
  plan: RunPlan;
  opts: RunOptions;
  runId: string;
  runDir: string;
  resultsDir: string;
  cluster: Summary["run"]["cluster"];
  loadedOf: (name: string) => AvailableDriver;
  /** The run was stopped (Ctrl-C, SIGTERM, --deadline): its exit code says so, whatever ran. */
  stopped?: StopReason | null;
}

/** The end of a run: summary on the console, verdict per driver, summary.json, the exit code. */
export async function finish(f: FinishInput): Promise<number> {
  const { outcomes, started, report, plan } = f;
  const categories: ErrorCategory[] = [];
  console.log("\nsummary");
  for (const [name, o] of Object.entries(outcomes)) {
    console.log(`  ${name.padEnd(6)} passed ${o.passed}  failed ${o.failed}  skipped ${o.skipped}`);
    for (const t of o.failedTests) console.log(`    ✘ ${t}`);
    // A unit test (or lint) that fails is volcert's own bug, whatever error it threw.
    const own = name === "unit" || name === "lint";
    categories.push(...(own ? o.failureCategories.map(() => "harness" as const) : o.failureCategories));
  }
  const onCluster = ["e2e", "chaos"].map((k) => outcomes[k]).filter((o): o is SuiteOutcome => !!o);
  const results = onCluster.flatMap((o) => o.results);
  const ran = (os: SuiteOutcome[]) => os.reduce((n, o) => n + o.passed + o.failed, 0);
  if (outcomes["unit"] && ran([outcomes["unit"]]) === 0) {
    console.log("  unit: no test ran: that is not a pass");
    categories.push("harness");
  }
  // Cases skipped as "stopped" in a run nobody stopped would be skips passed off as passes.
  const strayStops = results.filter((r) => r.state === "skipped" && STOPPED_SKIP.test(r.skipReason ?? ""));
  if (!f.stopped && strayStops.length) {
    console.log(`  ${strayStops.length} cases were skipped as stopped, but the run was not stopped: a volcert bug`);
    categories.push("harness");
  }
  if (onCluster.length && ran(onCluster) === 0) {
    console.log("  no case ran on the cluster (all skipped or filtered out): that is not a pass");
    categories.push("config");
  }
  if (results.length) {
    console.log(`\nverdicts per driver and area (passed ✔ / failed ✘ / skipped –)\n${summaryTable(results)}`);
    console.log(
      `\ntime per area (e2e cases run concurrently, so their walls overlap; NF runs alone)\n${areaTimes(results)}`,
    );
  }
  const cases: CaseResult[] = results.flatMap((r) => {
    const c = parseCaseTitle(r.name);
    if (!c) return [];
    const status = r.state === "passed" || r.state === "failed" ? r.state : "skipped";
    return [
      {
        id: c.id,
        title: r.name,
        driver: c.driver,
        status,
        ...(r.blame ? { blame: r.blame } : {}),
        ...(r.durationMs !== undefined ? { durationMs: Math.round(r.durationMs) } : {}),
        ...(r.skipReason ? { skipReason: r.skipReason } : {}),
      },
    ];
  });
  const { CATALOG } = await import("../../suites/catalog.ts");
  const catalog = CATALOG.map((c) => ({ id: c.id, area: c.area, perDriver: c.perDriver, requires: c.meta?.requires }));
  const drivers = onCluster.length
    ? plan.drivers.map((p) => {
        const d = f.loadedOf(p.name);
        const profile = profileFor(d.loaded.definition, catalog, f.opts.require ?? []);
        const v = verdictFor(profile, cases, { failOnSkip: !!f.opts.failOnSkip });
        // The gate: a required case the driver cannot run is the driver's; one the run could not is the run's.
        if (v.gate !== "pass") categories.push(v.gate);
        return {
          ...describeDriver(d.loaded.definition, d.file, d.loaded.format),
          profile,
          verdict: v.verdict,
          reasons: v.reasons,
          areas: v.areas,
        };
      })
    : [];
  if (drivers.length) {
    console.log(`\ncertification (profile: the cases the driver's declared capabilities make applicable)`);
    for (const d of drivers) {
      console.log(
        `  ${d.verdict.padEnd(13)} ${d.name}${d.version ? ` ${d.version}` : ""}: ${d.profile.applicable.length} cases in its profile, ${d.profile.outside.length} outside it (not declared)`,
      );
      for (const r of d.reasons.slice(0, 10)) console.log(`      ${r}`);
      for (const n of d.profile.notes) console.log(`      note: ${n}`);
      if (d.reasons.length > 10) console.log(`      … and ${d.reasons.length - 10} more (summary.json)`);
    }
  }
  const code = f.stopped ? STOP_EXIT_CODES[f.stopped] : exitCodeForFailures(categories);
  const tally = (["driver", "infrastructure", "harness", "config"] as const)
    .map((c) => [c, categories.filter((x) => x === c).length] as const)
    .filter(([, n]) => n > 0);
  const counts = tally.map(([c, n]) => `${n} ${c === "harness" ? "volcert" : c}`);
  if (counts.length) console.log(`\nfailures by whose they are: ${counts.join(", ")}`);
  const evidence = await evidenceByTest(f.resultsDir, f.runDir);
  const junit = (await readdir(f.runDir)).filter((n) => n.startsWith("junit") && n.endsWith(".xml"));
  const summary: Summary = {
    schema: SUMMARY_SCHEMA,
    volcert: volcertVersion(),
    run: {
      id: f.runId,
      mode: f.opts.mode,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      exitCode: code,
      ...(f.stopped ? { stopped: f.stopped } : {}),
      failures: Object.fromEntries(tally),
      cluster: f.cluster,
      options: { ...f.opts },
    },
    drivers,
    cases: cases.map((c) => ({ ...c, evidence: evidence.get(c.title) ?? [] })),
    files: {
      report: report ? relativeTo(f.runDir, report) : null,
      junit,
      allureResults: relativeTo(f.runDir, f.resultsDir),
      bundles: [],
    },
  };
  await writeSummary(join(f.runDir, "summary.json"), summary);
  for (const d of drivers) {
    const loaded = f.loadedOf(plan.drivers.find((p) => f.loadedOf(p.name).file === d.file)?.name ?? d.name).loaded;
    const bundle = await writeBundle({
      runDir: f.runDir,
      runId: f.runId,
      driver: d.name,
      // Files outside the driver's own directory (fixtures share some) are not bundled.
      driverFiles: driverFilePaths(loaded).filter((p) => !relative(loaded.baseDir, p).startsWith("..")),
      driverRoot: loaded.baseDir,
      report,
    }).catch((err: unknown) => {
      say(`writing the results bundle of ${d.name} failed: ${describeError(err)}`);
      return null;
    });
    if (bundle) summary.files.bundles.push(relativeTo(f.runDir, bundle));
  }
  // Written again with the bundles listed (each bundle holds the version written before it).
  await writeSummary(join(f.runDir, "summary.json"), summary);
  if (report) console.log(`report: ${report}`);
  for (const b of summary.files.bundles) console.log(`bundle: ${join(f.runDir, b)}`);
  console.log(`summary: ${join(f.runDir, "summary.json")}`);
  const outcome = f.stopped
    ? `STOPPED (${f.stopped === "deadline" ? "--deadline reached" : f.stopped}): cases not run are listed as skipped, so this is no verdict;`
    : code
      ? "FAILED"
      : "PASSED";
  console.log(`${outcome} in ${formatDuration(Date.now() - started)} (exit code ${code})`);
  return code;
}

/** The skip reasons of cases a stop cut short (harness/case/runtime.ts). */
const STOPPED_SKIP = /^(not run|stopped before the end): /;

const relativeTo = (from: string, to: string) => relative(from, to) || ".";
