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
import { ConfigError, describeError } from "../core/errors.ts";
import { formatDuration, say, step } from "../core/progress.ts";
import { generateReport } from "../report/allure-report.ts";
import { printAccess } from "./cluster-commands.ts";
import { printRepro } from "./repro.ts";
import { installDrivers, type InstalledDrivers } from "../drivers/install.ts";
import { Kube } from "../k8s/kube.ts";
import { detachOrphanLoops } from "../drivers/loops.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { fixtureDriverFiles, isBrokenFixture } from "../drivers/fixtures.ts";
import { prepareEnvironment } from "./environment.ts";
import { areaTimes, runVitestProject, summaryTable, type SuiteOutcome } from "./vitest-runner.ts";

export interface RunOptions {
  mode: "run" | "test";
  keepCluster: boolean;
  workers: number;
  name?: string | undefined;
  unitOnly?: boolean;
  /** Use the existing cluster `name` (never created or deleted by this run). */
  reuse?: boolean;
  /** Restrict the run to these drivers (names under fixtures/drivers). */
  drivers?: string[];
  /** Restrict the run to these test IDs ("DP-02") or areas ("RP"). */
  cases?: string[];
  /** Run the disruptive NF cases (default true). */
  chaos?: boolean;
  /** Allow disruptive cases on a cluster volcert did not create. */
  allowDisruptive?: boolean;
  /** Repro mode: keep each case's namespace and volumes, print how to inspect them. */
  keepCase?: boolean;
  /** Run the NF suite only for these drivers (CI's time budget); the other suites still run for all. */
  chaosDrivers?: string[];
}

/** Vitest name filter for --case: titles start with the test ID. */
export function caseFilter(ids: readonly string[]): string {
  const bad = ids.filter((i) => !/^[A-Z]{2,6}(-\d{2})?$/.test(i));
  if (bad.length)
    throw new ConfigError(
      "--case takes test IDs (DP-02) or areas (DP)",
      bad.map((b) => `${b}: not an ID or area`),
    );
  // Full names start with the describe block ("DP dynamic provisioning DP-05 ..."), so no ^ anchor.
  return `(?:^|\\s)(?:${ids.join("|")})(?:-\\d{2})?\\s`;
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
  let wanted = drivers.filter((d) => opts.mode === "test" || !isBrokenFixture(d.loaded.definition));
  if (opts.drivers) {
    const unknown = opts.drivers.filter((n) => !drivers.some((d) => d.name === n));
    if (unknown.length)
      throw new ConfigError(
        "unknown driver",
        unknown.map((u) => `${u} (known: ${drivers.map((d) => d.name).join(", ")})`),
      );
    wanted = drivers.filter((d) => opts.drivers?.includes(d.name));
  }
  const testNamePattern = opts.cases ? caseFilter(opts.cases) : undefined;
  const chaosOutside = (opts.chaosDrivers ?? []).filter(
    (n) => !wanted.some((d) => d.name === n && !isBrokenFixture(d.loaded.definition)),
  );
  if (chaosOutside.length)
    throw new ConfigError(
      "--chaos-driver names a driver this run does not certify",
      chaosOutside.map(
        (n) =>
          `${n} (this run: ${wanted
            .filter((d) => !isBrokenFixture(d.loaded.definition))
            .map((d) => d.name)
            .join(", ")})`,
      ),
    );
  const env = await prepareEnvironment();
  const shape = parseShape({ name: opts.name ?? `volcert-${opts.mode}-${runId.slice(-4)}`, workers: opts.workers });
  const provider = new KindProvider(env.tools);
  const cluster = opts.reuse
    ? await step(`reuse kind cluster ${shape.name}`, () => provider.attach(shape.name))
    : await step(`fresh kind cluster ${shape.name} (1 control plane + ${shape.workers} workers)`, () =>
        provider.create(shape, { logFile: clusterLogFile(shape.name) }),
      );
  let report: string | null = null;
  let installed: InstalledDrivers | null = null;
  try {
    installed = await step(`install drivers: ${wanted.map((d) => d.name).join(", ")}`, async () =>
      installDrivers(
        wanted.map((d) => ({ definition: d.loaded.definition, baseDir: d.loaded.baseDir })),
        {
          kube: new Kube(cluster.kubeconfigPath, env.tools.kubectl),
          nodes: await cluster.nodeContainers(),
          loadImages: (images) => provider.loadImages(cluster.name, images, clusterLogFile(cluster.name)),
        },
      ),
    );
    const projects = opts.mode === "test" ? ["e2e", "selftest"] : ["e2e"];
    const nodeCount = (await cluster.nodeContainers()).length;
    const suiteEnv = {
      ...reportEnv,
      VOLCERT_JUNIT: join(REPORTS_DIR, "junit.xml"),
      VOLCERT_KUBECONFIG: cluster.kubeconfigPath,
      VOLCERT_KUBECTL: env.tools.kubectl,
      VOLCERT_CLUSTER: cluster.name,
      VOLCERT_CLUSTER_CREATED: String(cluster.createdByVolcert),
      VOLCERT_EXPECTED_NODES: String(nodeCount),
      VOLCERT_RESULTS_DIR: runDir,
      VOLCERT_ALLOW_DISRUPTIVE: String(!!opts.allowDisruptive),
      VOLCERT_KEEP_CASE: String(!!opts.keepCase),
      VOLCERT_DRIVERS: wanted
        .filter((d) => !isBrokenFixture(d.loaded.definition))
        .map((d) => d.name)
        .join(","),
    };
    outcomes["e2e"] = await step(`${projects.join(" + ")} suites on the real cluster`, () =>
      runVitestProject(projects, suiteEnv, testNamePattern),
    );
    if (opts.chaos !== false) {
      // Disruptive cases run alone, after everything else, one at a time.
      const chaosFor = opts.chaosDrivers ? ` for ${opts.chaosDrivers.join(", ")} only` : "";
      outcomes["chaos"] = await step(`chaos suite (NF, one case at a time${chaosFor})`, () =>
        runVitestProject(
          "chaos",
          {
            ...suiteEnv,
            VOLCERT_JUNIT: join(REPORTS_DIR, "junit-chaos.xml"),
            ...(opts.chaosDrivers ? { VOLCERT_DRIVERS: opts.chaosDrivers.join(",") } : {}),
          },
          testNamePattern,
          opts.mode === "test" ? [] : ["suites/chaos/"],
        ),
      );
    }
    if (outcomes["e2e"].failed || outcomes["chaos"]?.failed) {
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
    if (opts.keepCase)
      printRepro(
        runDir,
        { cluster: cluster.name, kubeconfig: cluster.kubeconfigPath, kubectl: env.tools.kubectl },
        wanted.map((d) => d.loaded.definition),
      );
    if (opts.keepCluster) printAccess(cluster.name, cluster.kubeconfigPath, env.tools.kubectl);
    else {
      await step(`delete cluster ${cluster.name}`, () => provider.destroy(cluster.name));
      for (const l of await detachOrphanLoops())
        say(`detached loop device ${l.device} left by a deleted volume (${l.file})`);
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
  const onCluster = ["e2e", "chaos"].map((k) => outcomes[k]).filter((o): o is SuiteOutcome => !!o);
  const results = onCluster.flatMap((o) => o.results);
  const ran = (os: SuiteOutcome[]) => os.reduce((n, o) => n + o.passed + o.failed, 0);
  if (outcomes["unit"] && ran([outcomes["unit"]]) === 0) {
    console.log("  unit: no test ran: that is not a pass");
    failed++;
  }
  if (onCluster.length && ran(onCluster) === 0) {
    console.log("  no case ran on the cluster (all skipped or filtered out): that is not a pass");
    failed++;
  }
  if (results.length) {
    console.log(`\nverdicts per driver and area (passed ✔ / failed ✘ / skipped –)\n${summaryTable(results)}`);
    console.log(
      `\ntime per area (e2e cases run concurrently, so their walls overlap; NF runs alone)\n${areaTimes(results)}`,
    );
  }
  if (report) console.log(`report: ${report}`);
  console.log(`${failed ? "FAILED" : "PASSED"} in ${formatDuration(Date.now() - started)}`);
  return failed ? 1 : 0;
}
