/**
 * The main job (`volcert run`) and volcert's own test run (`volcert test`): prepare the machine,
 * create a fresh cluster, run the e2e suites against it, report, and tear the cluster down (unless
 * asked to keep it). Exit code: 0 all passed, 1 a test failed; infrastructure and config problems
 * throw and map to their own codes in main.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { imageNames } from "../../clusters/images/manifest.ts";
import { kindNodeAccess } from "../../clusters/kind/nodes.ts";
import { clusterLogFile, KindProvider } from "../../clusters/kind/provider.ts";
import { parseShape } from "../../clusters/kind/shape.ts";
import { describeError, exitCodeForFailures, type ErrorCategory } from "../core/errors.ts";
import { exec } from "../core/exec.ts";
import { registerNodeAccess } from "../core/nodes.ts";
import { formatDuration, say, step } from "../core/progress.ts";
import type { RunContext } from "../core/run-context.ts";
import { generateReport } from "../report/allure-report.ts";
import { printAccess } from "./cluster-commands.ts";
import { printRepro } from "./repro.ts";
import { installDrivers, type InstalledDrivers } from "../drivers/install.ts";
import { Kube } from "../k8s/kube.ts";
import { detachOrphanLoops } from "../drivers/loops.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { fixtureDriverFiles, isBrokenFixture } from "../drivers/fixtures.ts";
import { prepareEnvironment } from "./environment.ts";
import { planRun, type RunOptions } from "./plan.ts";
import { areaTimes, runVitestProject, summaryTable, type SuiteOutcome } from "./vitest-runner.ts";

export type { RunOptions } from "./plan.ts";

export const REPORTS_DIR = resolve("reports");

export async function runMain(opts: RunOptions): Promise<number> {
  const started = Date.now();
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomBytes(2).toString("hex")}`;
  const runDir = join(REPORTS_DIR, runId);
  const resultsDir = join(REPORTS_DIR, "allure-results");
  const outcomes: Record<string, SuiteOutcome> = {};

  // Driver files and options are validated before any Docker or cluster work: a bad file or flag
  // costs nothing but its error list.
  const loaded = await Promise.all(
    fixtureDriverFiles().map(async (f) => ({ ...f, loaded: await loadDriverFile(f.file) })),
  );
  const plan = planRun(
    opts,
    loaded.map((d) => ({ name: d.name, file: d.file, broken: isBrokenFixture(d.loaded.definition) })),
    runId,
  );
  const shape = opts.unitOnly ? null : parseShape({ name: plan.cluster.name, workers: plan.cluster.workers });
  await rm(resultsDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });

  if (opts.mode === "test") {
    outcomes["lint"] = await step("format, lint and types (prettier, eslint, tsc)", lintOutcome);
    outcomes["unit"] = await step("unit tests", () =>
      runVitestProject({
        projects: ["unit"],
        allureResultsDir: resultsDir,
        junitFile: join(REPORTS_DIR, "junit-unit.xml"),
      }),
    );
    if (opts.unitOnly || !shape) return finish(outcomes, started, null);
  }
  if (!shape) return finish(outcomes, started, null);

  const env = await prepareEnvironment();
  const provider = new KindProvider(env.tools);
  const cluster = plan.cluster.reuse
    ? await step(`reuse kind cluster ${shape.name}`, () => provider.attach(shape.name))
    : await step(`fresh kind cluster ${shape.name} (1 control plane + ${shape.workers} workers)`, () =>
        provider.create(shape, { logFile: clusterLogFile(shape.name) }),
      );
  const access = kindNodeAccess(cluster.name);
  registerNodeAccess(access);
  const kube = new Kube(cluster.kubeconfigPath, env.tools.kubectl);
  const install = [...plan.drivers, ...plan.brokenFixtures].map((p) => {
    const d = loaded.find((l) => l.name === p.name)!;
    return { definition: d.loaded.definition, baseDir: d.loaded.baseDir };
  });
  let report: string | null = null;
  let installed: InstalledDrivers | null = null;
  try {
    installed = await step(`install drivers: ${install.map((d) => d.definition.metadata.name).join(", ")}`, () =>
      installDrivers(install, {
        kube,
        nodes: access.shell,
        loadImages: (images) => provider.loadImages(cluster.name, images, clusterLogFile(cluster.name)),
        missingImages: (images) => provider.missingImages(images),
      }),
    );
    const nodes = (await kube.core.listNode()).items;
    const images = imageNames(env.manifest);
    const context: RunContext = {
      runId,
      runDir,
      cluster: {
        name: cluster.name,
        provider: "kind",
        kubeconfig: cluster.kubeconfigPath,
        createdByVolcert: cluster.createdByVolcert,
        expectedNodes: nodes.length,
        workers: nodes
          .filter((n) => n.metadata?.labels?.["node-role.kubernetes.io/control-plane"] === undefined)
          .map((n) => n.metadata?.name ?? "")
          .sort(),
        nodeLifecycle: true,
      },
      kubectl: env.tools.kubectl,
      images: { workload: images.workload },
      built: { kubernetesVersion: env.manifest.kubernetes.version, corednsImage: images.coredns },
      drivers: plan.drivers.map(({ name, file }) => ({ name, file })),
      brokenFixtures: plan.brokenFixtures.map(({ name, file }) => ({ name, file })),
      allowDisruptive: plan.allowDisruptive,
      keepCase: plan.keepCase,
    };
    outcomes["e2e"] = await step(`${plan.projects.join(" + ")} suites on the real cluster`, () =>
      runVitestProject({
        projects: plan.projects,
        testNamePattern: plan.testNamePattern,
        context,
        allureResultsDir: resultsDir,
        junitFile: join(runDir, "junit.xml"),
      }),
    );
    if (plan.chaosDrivers.length) {
      // Disruptive cases run alone, after everything else, one at a time.
      const only = plan.chaosDrivers.length < plan.drivers.length;
      const chaosFor = only ? ` for ${plan.chaosDrivers.map((d) => d.name).join(", ")} only` : "";
      outcomes["chaos"] = await step(`chaos suite (NF, one case at a time${chaosFor})`, () =>
        runVitestProject({
          projects: ["chaos"],
          files: plan.chaosFiles,
          testNamePattern: plan.testNamePattern,
          context: { ...context, drivers: plan.chaosDrivers.map(({ name, file }) => ({ name, file })) },
          allureResultsDir: resultsDir,
          junitFile: join(runDir, "junit-chaos.xml"),
        }),
      );
    }
    if (outcomes["e2e"].failed || outcomes["chaos"]?.failed) {
      const logs = await provider.exportLogs(cluster.name, join(runDir, "cluster-logs")).catch(() => null);
      if (logs) say(`cluster logs exported to ${logs}`);
    }
    report = await step("HTML report", () =>
      generateReport({
        resultsDir,
        outDir: join(runDir, "report"),
        configDir: runDir,
        name: `volcert ${opts.mode} ${runId}`,
        env: {
          kubernetes: env.manifest.kubernetes.version,
          kind: env.manifest.kind,
          nodeImage: images.node,
          debian: env.manifest.debian.suite,
          etcd: env.manifest.etcd,
          coredns: env.manifest.coredns,
          docker: env.dockerVersion,
        },
      }),
    ).catch((err: unknown) => {
      say(`report generation failed: ${describeError(err)}`);
      return null;
    });
  } finally {
    if (!plan.cluster.keep && installed) {
      await Promise.resolve(installed[Symbol.asyncDispose]()).catch((err: unknown) =>
        say(`uninstalling the drivers failed (the cluster is deleted next): ${describeError(err)}`),
      );
    }
    if (plan.keepCase) {
      printRepro(
        runDir,
        {
          cluster: cluster.name,
          kubeconfig: cluster.kubeconfigPath,
          kubectl: env.tools.kubectl,
          onNode: (node, command, o) => access.shell.commandLine(node, command, o),
        },
        install.map((d) => d.definition),
      );
    }
    if (plan.cluster.keep) printAccess(cluster.name, cluster.kubeconfigPath, env.tools.kubectl);
    else {
      await step(`delete cluster ${cluster.name}`, () => provider.destroy(cluster.name));
      for (const l of await detachOrphanLoops())
        say(`detached loop device ${l.device} left by a deleted volume (${l.file})`);
    }
  }
  return finish(outcomes, started, report);
}

/** volcert's own code: formatted and linted (import direction included); a failure is volcert's. */
async function lintOutcome(): Promise<SuiteOutcome> {
  const failedTests: string[] = [];
  for (const [what, bin, args] of [
    [
      "prettier --check",
      "node_modules/prettier/bin/prettier.cjs",
      ["--check", "--log-level", "warn", "**/*.{ts,mjs,js}"],
    ],
    ["eslint", "node_modules/eslint/bin/eslint.js", ["--max-warnings", "0", "."]],
    ["tsc --noEmit", "node_modules/typescript/bin/tsc", ["--noEmit"]],
  ] as const) {
    const r = await exec(process.execPath, [bin, ...args], { nothrow: true, timeoutMs: 5 * 60_000 });
    if (!r.ok) {
      failedTests.push(what);
      say(`${what} failed:\n${(r.stdout + r.stderr).trim()}`);
    }
  }
  return {
    passed: 3 - failedTests.length,
    failed: failedTests.length,
    skipped: 0,
    failedTests,
    failureCategories: failedTests.map(() => "harness" as const),
    results: [],
  };
}

function finish(outcomes: Record<string, SuiteOutcome>, started: number, report: string | null): number {
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
  const code = exitCodeForFailures(categories);
  const counts = (["driver", "infrastructure", "harness", "config"] as const)
    .map((c) => [c, categories.filter((x) => x === c).length] as const)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${n} ${c === "harness" ? "volcert" : c}`);
  if (counts.length) console.log(`\nfailures by whose they are: ${counts.join(", ")}`);
  if (report) console.log(`report: ${report}`);
  console.log(`${code ? "FAILED" : "PASSED"} in ${formatDuration(Date.now() - started)} (exit code ${code})`);
  return code;
}
