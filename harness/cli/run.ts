/**
 * The main job (`volcert run`) and volcert's own test run (`volcert test`): prepare the machine,
 * create a fresh cluster, run the e2e suites against it, report, and tear the cluster down (unless
 * asked to keep it). Exit code: 0 all passed, 1 a test failed; infrastructure and config problems
 * throw and map to their own codes in main.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { clusterLogFile, KindProvider } from "../../clusters/kind/provider.ts";
import { parseShape } from "../../clusters/kind/shape.ts";
import { describeError } from "../core/errors.ts";
import { formatDuration, say, step } from "../core/progress.ts";
import { generateReport } from "../report/allure-report.ts";
import { printAccess } from "./cluster-commands.ts";
import { installDrivers, type InstalledDrivers } from "../drivers/install.ts";
import { detachOrphanLoops } from "../drivers/loops.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { fixtureDriverFiles, isBrokenFixture } from "../drivers/fixtures.ts";
import { prepareEnvironment } from "./environment.ts";
import { runVitestProject, summaryTable, type SuiteOutcome } from "./vitest-runner.ts";

export interface RunOptions {
  mode: "run" | "test";
  keepCluster: boolean;
  workers: number;
  name?: string | undefined;
  unitOnly?: boolean;
}

export const REPORTS_DIR = resolve("reports");

export async function runMain(opts: RunOptions): Promise<number> {
  const started = Date.now();
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomBytes(2).toString("hex")}`;
  const runDir = join(REPORTS_DIR, runId);
  const resultsDir = join(REPORTS_DIR, "allure-results");
  await rm(resultsDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const reportEnv = { VOLCERT_ALLURE_RESULTS: resultsDir, VOLCERT_RUN_ID: runId };
  const outcomes: Record<string, SuiteOutcome> = {};

  if (opts.mode === "test") {
    outcomes["unit"] = await step("unit tests", () =>
      runVitestProject("unit", { ...reportEnv, VOLCERT_JUNIT: join(REPORTS_DIR, "junit-unit.xml") }),
    );
    if (opts.unitOnly) return finish(outcomes, started, null);
  }

  // Driver files are validated before any cluster work: a bad file costs nothing but its error list.
  const drivers = await Promise.all(
    fixtureDriverFiles().map(async (f) => ({ name: f.name, loaded: await loadDriverFile(f.file) })),
  );
  // The main job certifies the reference drivers; volcert's own tests also install the broken fixtures.
  const wanted = drivers.filter((d) => opts.mode === "test" || !isBrokenFixture(d.loaded.definition));
  const env = await prepareEnvironment();
  const shape = parseShape({ name: opts.name ?? `volcert-${opts.mode}-${runId.slice(-4)}`, workers: opts.workers });
  const provider = new KindProvider(env.tools);
  const cluster = await step(`fresh kind cluster ${shape.name} (1 control plane + ${shape.workers} workers)`, () =>
    provider.create(shape, { logFile: clusterLogFile(shape.name) }),
  );
  let report: string | null = null;
  let installed: InstalledDrivers | null = null;
  try {
    installed = await step(`install drivers: ${wanted.map((d) => d.name).join(", ")}`, async () =>
      installDrivers(wanted.map((d) => ({ definition: d.loaded.definition, baseDir: d.loaded.baseDir })), await cluster.nodeContainers()),
    );
    const projects = opts.mode === "test" ? ["e2e", "selftest"] : ["e2e"];
    outcomes["e2e"] = await step(`${projects.join(" + ")} suites on the real cluster`, () =>
      runVitestProject(projects, {
        ...reportEnv,
        VOLCERT_JUNIT: join(REPORTS_DIR, "junit.xml"),
        VOLCERT_KUBECONFIG: cluster.kubeconfigPath,
        VOLCERT_KUBECTL: env.tools.kubectl,
        VOLCERT_CLUSTER: cluster.name,
        VOLCERT_CLUSTER_CREATED: String(cluster.createdByVolcert),
        VOLCERT_EXPECTED_NODES: String(shape.workers + 1),
        VOLCERT_DRIVERS: wanted.filter((d) => !isBrokenFixture(d.loaded.definition)).map((d) => d.name).join(","),
      }),
    );
    if (outcomes["e2e"].failed) {
      const logs = await provider.exportLogs(cluster.name, join(runDir, "cluster-logs")).catch(() => null);
      if (logs) say(`cluster logs exported to ${logs}`);
    }
    report = await step("HTML report", () =>
      generateReport({ resultsDir, outDir: join(runDir, "report"), name: `volcert ${opts.mode} ${runId}`, env }),
    ).catch((err: unknown) => {
      say(`report generation failed: ${describeError(err)}`);
      return null;
    });
  } finally {
    if (!opts.keepCluster && installed) await Promise.resolve(installed[Symbol.asyncDispose]()).catch(() => undefined);
    if (opts.keepCluster) printAccess(cluster.name, cluster.kubeconfigPath, env.tools.kubectl);
    else {
      await step(`delete cluster ${cluster.name}`, () => provider.destroy(cluster.name));
      for (const l of await detachOrphanLoops()) say(`detached loop device ${l.device} left by a deleted volume (${l.file})`);
    }
  }
  return finish(outcomes, started, report);
}

function finish(outcomes: Record<string, SuiteOutcome>, started: number, report: string | null): number {
  let failed = 0;
  console.log("\nsummary");
  for (const [name, o] of Object.entries(outcomes)) {
    console.log(`  ${name.padEnd(6)} passed ${o.passed}  failed ${o.failed}  skipped ${o.skipped}`);
    for (const t of o.failedTests) console.log(`    ✘ ${t}`);
    failed += o.failed;
  }
  const e2e = outcomes["e2e"];
  if (e2e) console.log(`\nverdicts per driver and area (passed ✔ / failed ✘ / skipped –)\n${summaryTable(e2e.results)}`);
  if (report) console.log(`report: ${report}`);
  console.log(`${failed ? "FAILED" : "PASSED"} in ${formatDuration(Date.now() - started)}`);
  return failed ? 1 : 0;
}
