/**
 * The main job (`volcert run`) and volcert's own test run (`volcert test`): validate the options
 * and drivers, prepare the machine, get the cluster (a fresh kind cluster, a reused one, or an
 * existing one by kubeconfig: cluster-target.ts), install the drivers (a failed install is that
 * driver's failed case, not the end of the run), run the suites, report, and release the cluster.
 * The summary, verdicts and exit code are finish.ts; problems found before any cluster work throw
 * and map to their exit codes in main.ts.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Cluster } from "../../clusters/cluster.ts";
import { stepOutput } from "../../clusters/images/build.ts";
import { imageNames, loadManifest, upstreamNames } from "../../clusters/images/manifest.ts";
import { builtinImageRewrites } from "../../clusters/images/sidecars.ts";
import { readSnapshotApi } from "../../clusters/images/snapshot-api.ts";
import { CREATION_SLOTS, KindProvider } from "../../clusters/kind/provider.ts";
import { describeNodeMonitor, FAST_NODE_MONITOR, parseShape } from "../../clusters/kind/shape.ts";
import { categoryOf, ConfigError, describeError } from "../core/errors.ts";
import { describeDetached, detachOrphanLoops } from "../drivers/loops.ts";
import { withSignal } from "../core/abort.ts";
import { exec, signalChildren, SPAWN_LOG_ENV } from "../core/exec.ts";
import { handleStops, STOP_EXIT_CODES, type RunStop } from "../core/interrupt.ts";
import { RunJournal, type JournalCluster } from "../core/journal.ts";
import { releaseRun, takeLease } from "../core/leases.ts";
import { checkInterrupts } from "./interrupt-selfcheck.ts";
import { detachLoops, healFaults, printSettle } from "./journal-settle.ts";
import { say, step } from "../core/progress.ts";
import type { RunContext } from "../core/run-context.ts";
import { generateReport } from "../report/allure-report.ts";
import { printRepro } from "./repro.ts";
import { renderChart } from "../drivers/helm.ts";
import { recordInstallFailure } from "../drivers/install-failure.ts";
import { Kube } from "../k8s/kube.ts";
import { versionLine } from "../core/version.ts";
import type { Summary } from "../report/summary.ts";
import { unreadableReason } from "../drivers/read.ts";
import { callerPath } from "./caller-path.ts";
import { resolveDriverArgs, type AvailableDriver } from "./driver-args.ts";
import { kindTarget, kubeconfigTarget } from "./cluster-target.ts";
import {
  checkVendorPath,
  removeVendorFiles,
  removeVendorImage,
  tagVendorImage,
  writeVendorCopy,
} from "./vendor-selfcheck.ts";
import { fixtureDriverFiles } from "../drivers/fixtures.ts";
import { describeNodeImage, prepareEnvironment, toolsFor } from "./environment.ts";
import { finish } from "./finish.ts";
import { planRun, type ChaosLane, type RunOptions } from "./plan.ts";
import { runVitestProject, type SuiteOutcome } from "./vitest-runner.ts";
import { mergeOutcomes, runLane, type Lane, type LaneDeps, type SharedContext } from "./lane.ts";
import type { DriverFile } from "../drivers/schema.ts";
import { declarationNotes } from "../report/verdict.ts";
import { clusterNeeds, NEED_TITLES, type ClusterNeeds } from "../drivers/cluster-needs.ts";
import { driverGateReason } from "../case/gate.ts";
import { CASE_CONCURRENCY, FILE_WORKERS } from "./e2e-schedule.ts";

export type { RunOptions } from "./plan.ts";

export const REPORTS_DIR = resolve("reports");

/**
 * A run with its journal and lease (what it changes is recorded before it is made) and its stop
 * handling: Ctrl-C, SIGTERM or --deadline stop the run, what it started is healed and removed
 * (harness/core/interrupt.ts), and the exit code says it was stopped (130, 143, 124).
 */
export async function runMain(opts: RunOptions): Promise<number> {
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomBytes(2).toString("hex")}`;
  const journal = new RunJournal(runId);
  takeLease(runId, `volcert ${process.argv.slice(2).join(" ")}`);
  const stop = handleStops({
    ...(opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {}),
    onStop: (why) =>
      say(
        `\n${why === "deadline" ? "--deadline reached" : `${why} received`}: stopping. Cases in progress heal their faults, then volcert removes what this run created${opts.keepCluster ? " (the cluster is kept)" : ""} and writes the report of what ran. Press Ctrl-C again to stop at once.`,
      ),
    onGiveUp: () => {
      signalChildren("SIGKILL");
      const left = journal.openEntries();
      say(
        left.length
          ? `stopped at once; still left from this run (journal ${journal.file}):\n${left.map((e) => `  - ${e.what} (cluster ${e.cluster.name})`).join("\n")}\n  restore a kept cluster: volcert cluster heal <name>; remove everything: volcert cluster sweep`
          : "stopped at once; nothing of this run is left behind",
      );
    },
  });
  try {
    const code = await withSignal(stop.signal, () => runSteps(opts, { runId, journal, stop }));
    const why = stop.reason();
    return why ? STOP_EXIT_CODES[why] : code;
  } catch (err) {
    const why = stop.reason();
    if (!why) throw err;
    say(`stopped: ${describeError(err)}`);
    return STOP_EXIT_CODES[why];
  } finally {
    await withSignal(stop.cleanupSignal, () => settleLeftovers(journal, opts.keepCluster || !!opts.reuse)).catch(
      (err: unknown) => say(`cleaning up after the run failed: ${describeError(err)}`),
    );
    stop.dispose();
    const left = journal.openEntries();
    if (left.some((e) => e.record.kind !== "cluster"))
      say(
        `left behind (journal ${journal.file}):\n${left.map((e) => `  - ${e.what}`).join("\n")}\n  fix: volcert cluster heal <name>, or volcert cluster sweep`,
      );
    releaseRun(runId, journal.file, left.length === 0);
  }
}

/**
 * What the run's own cleanup did not get to (it was stopped before the cluster existed, or a step
 * of it failed): faults healed, loop devices detached, a cluster it created deleted unless kept.
 */
async function settleLeftovers(journal: RunJournal, keep: boolean): Promise<void> {
  const left = journal.openEntries();
  if (!left.length) return;
  const provider = new KindProvider(toolsFor(loadManifest()));
  const live = new Set(await provider.listAll());
  const clusterExists = async (c: JournalCluster) => c.provider !== "kind" || live.has(c.name);
  const kubectl = toolsFor(loadManifest()).kubectl;
  printSettle("healing from the journal", await healFaults(left, { kubectl, clusterExists }));
  printSettle("loop devices from the journal", await detachLoops(left, { clusterExists }));
  for (const e of journal.openEntries()) {
    if (e.record.kind !== "cluster") continue;
    if (!e.record.created) journal.close(e.id);
    else if (!keep) {
      // Also when kind does not list it (stopped before its nodes existed): its network and state
      // directory may exist already; kind delete of a missing cluster is a no-op.
      await step(`delete cluster ${e.cluster.name}`, () => provider.destroy(e.cluster.name));
      journal.close(e.id);
    }
  }
}

interface RunState {
  runId: string;
  journal: RunJournal;
  stop: RunStop;
}

async function runSteps(opts: RunOptions, { runId, journal, stop }: RunState): Promise<number> {
  const started = Date.now();
  const outcomes: Record<string, SuiteOutcome> = {};

  // Driver files and options are validated before any Docker or cluster work: a bad file or flag
  // costs nothing but its error list.
  // volcert's own full test run also proves the vendor's path (harness/cli/vendor-selfcheck.ts).
  const vendor =
    opts.mode === "test" && !opts.unitOnly && !opts.drivers && !opts.cases ? await writeVendorCopy(runId) : null;
  // Sidecars volcert builds are offered under their upstream names (clusters/images/sidecars.ts).
  const builtinRewrites = builtinImageRewrites(loadManifest());
  const selection = await resolveDriverArgs(
    vendor ? [...fixtureDriverFiles().map((f) => f.name), vendor.driverFile] : opts.drivers,
    { builtinRewrites },
  );
  const { CATALOG } = await import("../../suites/catalog.ts");
  const driverCases = CATALOG.filter((c) => c.perDriver);
  // What the NF suite runs for each driver (its profile's NF cases, the gate's driver half): lanes
  // are balanced by it, and cases of a driver that installs in seconds may be dealt to several.
  const nfCases = driverCases.filter((c) => c.area === "NF");
  const chaosProfiles = Object.fromEntries(
    selection.available.map((a) => {
      const runs = nfCases.filter((c) => driverGateReason(c.meta?.requires, a.loaded.definition) === null);
      return [
        a.name,
        {
          runs: runs.map((c) => c.id),
          outside: nfCases.filter((c) => !runs.includes(c)).map((c) => c.id),
          quickInstall: a.loaded.definition.spec.type !== "csi",
        },
      ];
    }),
  );
  const plan = planRun(
    {
      ...opts,
      ...(selection.names ? { drivers: selection.names } : {}),
      chaosProfiles,
      creationSlots: CREATION_SLOTS,
    },
    selection.available,
    runId,
    {
      ids: CATALOG.map((c) => c.id),
      driverIds: driverCases.map((c) => c.id),
      driverAreas: [...new Set(driverCases.map((c) => c.area))],
    },
  );
  const runDir = opts.reportDir ? callerPath(opts.reportDir) : join(REPORTS_DIR, runId);
  if (existsSync(runDir) && (await readdir(runDir)).length) {
    throw new ConfigError(`--report-dir ${runDir} is not empty`, [], {
      fix: "give a new or empty directory: each run's results stay apart, so nothing stale is ever read as this run's",
    });
  }
  const resultsDir = join(runDir, "allure-results");
  const archives = (opts.imageArchives ?? []).map((a) => callerPath(a));
  const badArchives = [];
  for (const a of archives) {
    const why = await unreadableReason(a, Number.MAX_SAFE_INTEGER);
    if (why) badArchives.push(`--image-archive ${a} ${why}`);
  }
  if (badArchives.length) throw new ConfigError("image archives cannot be read", badArchives);
  const loadedOf = (name: string) => selection.available.find((a) => a.name === name) as AvailableDriver;
  const runDriver = ({ name, file }: { name: string; file: string }) => ({
    name,
    file,
    definition: loadedOf(name).loaded.definition,
  });
  // What the drivers of each cluster need from it (spec.cluster): shared storage in its shape, the
  // VolumeSnapshot API installed before them.
  const needsOf = (ds: readonly { name: string }[]) => clusterNeeds(ds.map((d) => loadedOf(d.name).loaded.definition));
  const runNeeds = needsOf([...plan.drivers, ...plan.brokenFixtures]);
  const shape = opts.unitOnly
    ? null
    : parseShape({
        name: plan.cluster.name,
        workers: plan.cluster.workers,
        ...(plan.cluster.fastNodeMonitor ? { nodeMonitor: FAST_NODE_MONITOR } : {}),
        sharedStorage: runNeeds.sharedStorage.length > 0,
      });
  await mkdir(resultsDir, { recursive: true });
  // Every command this run and its Vitest workers start, for `.ci/spawn-tally.mjs`.
  process.env[SPAWN_LOG_ENV] ??= join(runDir, "spawns.tsv");
  say(`volcert ${versionLine()}; results in ${runDir}`);
  for (const p of [...plan.drivers, ...plan.brokenFixtures]) {
    const images = loadedOf(p.name).loaded.images;
    if (images.length) say(`driver ${p.name} needs images: ${images.join(", ")}`);
  }
  const done = (report: string | null, cluster: Summary["run"]["cluster"]) =>
    withSignal(stop.cleanupSignal, () =>
      finish({
        outcomes,
        started,
        report,
        plan,
        opts,
        runId,
        runDir,
        resultsDir,
        cluster,
        loadedOf,
        stopped: stop.reason(),
      }),
    );

  if (opts.mode === "test") {
    outcomes["lint"] = await step("format, lint and types (prettier, eslint, tsc)", lintOutcome);
    outcomes["unit"] = await step("unit tests", () =>
      runVitestProject(
        {
          projects: ["unit"],
          allureResultsDir: resultsDir,
          junitFile: join(runDir, "junit-unit.xml"),
        },
        stop.signal,
      ),
    );
    if (opts.unitOnly || !shape) return done(null, null);
  }
  if (!shape) return done(null, null);

  for (const [need, names] of Object.entries(runNeeds))
    if (names.length)
      say(`${names.join(", ")} need${names.length === 1 ? "s" : ""} ${NEED_TITLES[need as keyof ClusterNeeds]}`);
  // Images built on demand (the CSI sidecars) are built when a driver of this run uses them.
  const needsSnapshotApi = runNeeds.volumeSnapshots.length > 0;
  const env = await prepareEnvironment({
    images: [
      ...[...plan.drivers, ...plan.brokenFixtures].flatMap((p) => loadedOf(p.name).loaded.images),
      ...(needsSnapshotApi ? [imageNames(loadManifest()).snapshotController] : []),
    ],
    steps: needsSnapshotApi ? ["snapshot-api"] : [],
    createsClusters: !plan.cluster.kubeconfig && (!plan.cluster.reuse || plan.chaosLanes.length > 0),
  });
  const snapshotApi = needsSnapshotApi
    ? await readSnapshotApi(stepOutput(env.manifest, "snapshot-api"), env.manifest)
    : undefined;
  const provider = new KindProvider(env.tools);
  for (const archive of archives) {
    const images = await step(`load image archive ${archive}`, () => provider.loadArchive(archive));
    say(`  ${archive}: ${images.join(", ") || "no image names (untagged images cannot be used by manifests)"}`);
  }
  if (vendor) await tagVendorImage();
  const install = await Promise.all(
    [...plan.drivers, ...plan.brokenFixtures].map(async (p) => {
      const d = loadedOf(p.name);
      const installed = plan.installedDrivers.includes(p.name);
      // A chart's images are known once it is rendered, which needs the helm binary just built.
      const images =
        d.loaded.definition.spec.helm && !installed
          ? (
              await renderChart(
                d.loaded.definition,
                d.loaded.baseDir,
                env.tools.helm,
                env.manifest.kubernetes.version,
                builtinRewrites,
              )
            ).images
          : d.loaded.images;
      if (d.loaded.definition.spec.helm) say(`driver ${p.name} (Helm chart) needs images: ${images.join(", ")}`);
      return { definition: d.loaded.definition, baseDir: d.loaded.baseDir, images, installed };
    }),
  );
  const chartImages = install.filter((d) => d.definition.spec.helm).flatMap((d) => d.images);
  // On-demand images (CSI sidecars) a chart uses are built now; cached steps cost nothing.
  if (chartImages.length) await prepareEnvironment({ images: chartImages });
  const images = imageNames(env.manifest);
  const upstream = upstreamNames(env.manifest);
  const byKubeconfig = plan.cluster.kubeconfig;
  if (!byKubeconfig) {
    // The images the drivers run must be in the local engine (there is no registry): checked
    // before any cluster work, every missing one named.
    const missing = [];
    for (const d of install.filter((d) => !d.installed)) {
      for (const image of await provider.missingImages(d.images))
        missing.push(`${d.definition.metadata.name}: ${image}`);
    }
    for (const image of snapshotApi ? await provider.missingImages(snapshotApi.images) : [])
      missing.push(`the VolumeSnapshot API: ${image}`);
    if (missing.length) {
      throw new ConfigError(
        "the drivers need images that are not in the local Docker engine (there is no registry)",
        missing,
        {
          fix: "build or load them into the local engine (docker build, docker load -i <archive.tar>, or --image-archive <archive.tar>), or map the manifests' image names to local ones with spec.csi.imageRewrites",
        },
      );
    }
  }
  if (!byKubeconfig) {
    // A name taken by another cluster (a kept one of an earlier run) is refused before anything is created.
    const wanted = [...(plan.cluster.reuse ? [] : [plan.cluster.name]), ...plan.chaosLanes.map((l) => l.cluster)];
    const live = new Set(await provider.listAll());
    const taken = wanted.filter((n) => live.has(n));
    if (taken.length)
      throw new ConfigError(
        "kind clusters with this run's names exist already",
        taken.map((n) => `${n} exists`),
        { fix: "delete them (volcert cluster down <name>), or pick another --name" },
      );
  }
  const recordFailure = async (kube: Kube, d: DriverFile, error: unknown, dir: string) => {
    // Plan names are metadata.name (a fixture's directory name equals it: fixtures.test.ts).
    const failure = await recordInstallFailure(kube, d, loadedOf(d.metadata.name).loaded.objects, error, dir);
    const expected = plan.brokenFixtures.some((b) => b.name === d.metadata.name) ? " (a broken fixture: expected)" : "";
    say(`✘ ${failure.message}${expected}\n  evidence: ${dir}`);
    return failure;
  };
  const shared: SharedContext = {
    runId,
    journal: journal.file,
    stopFile: join(runDir, ".vitest", "stopped"),
    runDir,
    kubectl: env.tools.kubectl,
    images: { workload: images.workload },
    // What volcert built the cluster from (SMOKE-01 checks it): unknown for a cluster it did not build.
    ...(byKubeconfig
      ? {}
      : { built: { kubernetesVersion: env.manifest.kubernetes.version, corednsImage: upstream.coredns } }),
    drivers: plan.drivers.map(runDriver),
    brokenFixtures: plan.brokenFixtures.map(runDriver),
    allowDisruptive: plan.allowDisruptive,
    keepCase: plan.keepCase,
  };
  const installsOf = (ds: readonly { name: string }[]) =>
    install.filter((i) => ds.some((d) => d.name === i.definition.metadata.name));
  const chaosRun = (context: RunContext, files: string[], junit: string, prefix?: string) =>
    runVitestProject(
      {
        projects: ["chaos"],
        files,
        testNamePattern: plan.testNamePattern,
        context,
        allureResultsDir: resultsDir,
        junitFile: join(runDir, junit),
        ...(prefix ? { outputPrefix: prefix } : {}),
      },
      stop.signal,
    );
  // A lane that cannot go on (its cluster could not be created) is an infrastructure failure of
  // the run; the others go on, and the report shows what ran.
  const chaosOutcomes: SuiteOutcome[] = [];
  let mainCluster: Cluster | null = null;

  const mainLane: Lane = {
    name: plan.cluster.name,
    label: "",
    target: async () => {
      const t = byKubeconfig
        ? await kubeconfigTarget({
            kubeconfig: callerPath(byKubeconfig.path),
            context: byKubeconfig.context,
            kubectl: env.tools.kubectl,
            runDir,
            workloadImage: images.workload,
          })
        : await kindTarget(provider, shape, { reuse: plan.cluster.reuse, kubectl: env.tools.kubectl, journal });
      mainCluster = t.cluster;
      return t;
    },
    install,
    ...(snapshotApi && runNeeds.volumeSnapshots.length ? { snapshotApi } : {}),
    context: shared,
    keep: plan.cluster.keep,
    alwaysUninstall: !!byKubeconfig,
    work: async (context, target) => {
      outcomes["e2e"] = await step(`${plan.projects.join(" + ")} suites on the real cluster`, () =>
        runVitestProject(
          {
            projects: plan.projects,
            testNamePattern: plan.testNamePattern,
            // Next to chaos lanes the cores are busy; alone (no lanes: --no-chaos, a kept, reused or
            // --kubeconfig cluster), the cases mostly wait (e2e-schedule.ts).
            caseConcurrency: plan.chaosLanes.length ? CASE_CONCURRENCY.nextToChaos : CASE_CONCURRENCY.alone,
            fileWorkers: plan.chaosLanes.length ? FILE_WORKERS.nextToChaos : FILE_WORKERS.alone,
            context,
            allureResultsDir: resultsDir,
            junitFile: join(runDir, "junit.xml"),
          },
          stop.signal,
        ),
      );
      if (vendor && !stop.signal.aborted) {
        // While the vendor copy is installed and no other suite runs on this cluster.
        outcomes["vendor"] = await step("vendor's path: existing cluster, upstream file, missing image", () =>
          checkVendorPath(vendor, target.cluster.kubeconfigPath, runDir),
        );
      }
      let chaosFailed = false;
      if (plan.chaosInMain.length && !stop.signal.aborted) {
        // Disruptive cases run here alone, after everything else, one at a time.
        const only = plan.chaosInMain.length < plan.drivers.length;
        const chaosFor = only ? ` for ${plan.chaosInMain.map((d) => d.name).join(", ")} only` : "";
        const o = await step(`chaos suite (NF, one case at a time${chaosFor})`, () =>
          chaosRun(
            { ...context, drivers: plan.chaosInMain.map(runDriver) },
            plan.chaosFiles,
            "junit-chaos.xml",
            // Next to other clusters' output: prefixed like theirs.
            plan.chaosLanes.length ? `[${plan.cluster.name}]` : undefined,
          ),
        );
        chaosOutcomes.push(o);
        chaosFailed = o.failed > 0;
      }
      if (vendor && !stop.signal.aborted) {
        // Two more runs next to this one, each stopped in the middle of a fault (its own clusters).
        outcomes["stops"] = await step("stopped runs leave nothing behind (Ctrl-C and kill -9 during a fault)", () =>
          checkInterrupts(runId, runDir, stop.signal),
        );
      }
      return outcomes["e2e"].failed > 0 || chaosFailed;
    },
    beforeRelease: async (target) => {
      if (!plan.keepCase) return;
      printRepro(
        runDir,
        {
          cluster: target.cluster.name,
          kubeconfig: target.cluster.kubeconfigPath,
          kubectl: env.tools.kubectl,
          onNode: (node, command, o) => target.access.shell.commandLine(node, command, o),
        },
        install.map((d) => d.definition),
      );
    },
  };
  const chaosLanes: Lane[] = plan.chaosLanes.map((l) => {
    const laneNeeds = needsOf([...l.drivers, ...l.brokenFixtures]);
    const laneShape = parseShape({
      name: l.cluster,
      workers: plan.cluster.workers,
      nodeMonitor: FAST_NODE_MONITOR,
      sharedStorage: laneNeeds.sharedStorage.length > 0,
    });
    const names = l.drivers.map((d) => d.name).join(", ");
    return {
      name: l.cluster,
      label: ` in ${l.cluster}`,
      target: () => kindTarget(provider, laneShape, { reuse: false, kubectl: env.tools.kubectl, journal }),
      install: installsOf([...l.drivers, ...l.brokenFixtures]),
      ...(snapshotApi && laneNeeds.volumeSnapshots.length ? { snapshotApi } : {}),
      context: {
        ...shared,
        drivers: l.drivers.map((d) => {
          const cases = l.caseSubsets[d.name];
          return cases ? { ...runDriver(d), cases } : runDriver(d);
        }),
        brokenFixtures: l.brokenFixtures.map(runDriver),
      },
      keep: plan.cluster.keep,
      alwaysUninstall: false,
      work: async (context) => {
        const o = await step(`chaos suite for ${names} in ${l.cluster} (NF, one case at a time)`, () =>
          chaosRun(context, l.files, `junit-chaos-${l.cluster}.xml`, `[${l.cluster}]`),
        );
        // The main cluster's IN cases cover installs there; a driver that would not install here is a failure too.
        for (const f of context.installFailures) {
          o.failed++;
          o.failedTests.push(`install of ${f.driver} in ${l.cluster}: ${f.message}  [${f.category}]`);
          o.failureCategories.push(f.category);
        }
        chaosOutcomes.push(o);
        return o.failed > 0;
      },
    };
  });
  const laneDeps: LaneDeps = {
    journal,
    kubectl: env.tools.kubectl,
    helm: env.tools.helm,
    builtinRewrites,
    runDir,
    cleanupSignal: stop.cleanupSignal,
    recordFailure,
  };
  if (chaosLanes.length)
    say(
      `the chaos suite runs in ${chaosLanes.length} cluster(s) of its own next to the other suites: ${plan.chaosLanes.map(laneText).join("; ")}; node-failure detection there: ${describeNodeMonitor(FAST_NODE_MONITOR)}`,
    );
  // On a small host clusters are created a few at a time (KindProvider.create), in this order: the
  // longest chaos lane (plan.ts numbers them longest first), then the main cluster, then the other
  // lanes. Measured on 2 cores (docs/benchmarks.md, 2026-12-03): once the two-driver lane had the
  // fewest NF cases it could, the main cluster's path (e2e 12-15 min after creation and install) was
  // the critical one when its cluster came last (created after 6m32s, job 24m54s).
  const [longest, ...otherLanes] = chaosLanes;
  const lanes = longest ? [longest, mainLane, ...otherLanes] : [mainLane];
  const settled = await Promise.allSettled(lanes.map((lane) => withSignal(stop.signal, () => runLane(lane, laneDeps))));
  const chaos = mergeOutcomes(chaosOutcomes);
  if (chaos) outcomes["chaos"] = chaos;
  // A lane that failed outright (its cluster, its install step) counts; a stopped one is the stop's.
  const broken = stop.reason()
    ? []
    : settled.flatMap((r, i) =>
        r.status === "rejected" ? [{ name: lanes[i]?.name ?? "?", error: r.reason as unknown }] : [],
      );
  if (broken.length) {
    outcomes["lanes"] = {
      passed: 0,
      failed: broken.length,
      skipped: 0,
      failedTests: broken.map((b) => `cluster ${b.name}: ${describeError(b.error)}  [${categoryOf(b.error)}]`),
      failureCategories: broken.map((b) => categoryOf(b.error)),
      results: [],
    };
    for (const b of broken) say(`✘ cluster ${b.name}: ${describeError(b.error)}`);
  }
  await withSignal(stop.cleanupSignal, async () => {
    if (vendor) await removeVendorImage();
    // Once every cluster of the run is released: before, another of them may still use its devices.
    if (!byKubeconfig)
      for (const l of await detachOrphanLoops(runId)) say(describeDetached(l, "loop device left by a deleted volume"));
  });

  // The report of what ran is written even when the run was stopped.
  const report = await withSignal(stop.cleanupSignal, () =>
    step("HTML report", () =>
      generateReport({
        resultsDir,
        outDir: join(runDir, "report"),
        configDir: runDir,
        name: `volcert ${opts.mode} ${runId}`,
        env: {
          kubernetes: env.manifest.kubernetes.version,
          kind: env.manifest.kind,
          nodeImage: describeNodeImage(
            env.manifest,
            env.tools.nodeImage,
            byKubeconfig ? "existing" : plan.cluster.reuse ? "reused" : "created",
          ),
          debian: env.manifest.debian.suite,
          etcd: env.manifest.etcd,
          coredns: env.manifest.coredns,
          docker: env.dockerVersion,
          volcert: versionLine(),
          drivers: plan.drivers
            .map((p) => `${p.name} ${loadedOf(p.name).loaded.definition.metadata.version ?? "(no version)"}`)
            .join(", "),
          ...placementNotes(plan.drivers.map((p) => loadedOf(p.name).loaded.definition)),
          ...(plan.cluster.fastNodeMonitor ? { nodeFailureDetection: describeNodeMonitor(FAST_NODE_MONITOR) } : {}),
          ...(plan.chaosLanes.length
            ? {
                chaosClusters: plan.chaosLanes.map(laneText).join("; "),
                chaosNodeFailureDetection: describeNodeMonitor(FAST_NODE_MONITOR),
              }
            : {}),
        },
      }),
    ),
  ).catch((err: unknown) => {
    say(`report generation failed: ${describeError(err)}`);
    return null;
  });
  const cluster = mainCluster as Cluster | null;
  try {
    return await done(
      report,
      cluster
        ? {
            name: cluster.name,
            provider: cluster.provider,
            createdByVolcert: cluster.createdByVolcert,
            kubernetes: env.manifest.kubernetes.version,
          }
        : null,
    );
  } finally {
    // After the results bundles: vendor-csi's holds the copy's driver files.
    if (vendor) await removeVendorFiles(vendor);
  }
}

/** The report's environment entry for drivers whose declaration leaves the scheduler blind (verdict.ts). */
function placementNotes(drivers: readonly DriverFile[]): { schedulerPlacement?: string } {
  const noted = drivers.flatMap((d) => declarationNotes(d).map((n) => `${d.metadata.name}: ${n}`));
  return noted.length ? { schedulerPlacement: noted.join("; ") } : {};
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

/** A chaos lane as the run describes it: its cluster, its drivers, and the cases of a driver dealt to several lanes. */
function laneText(l: ChaosLane): string {
  const drivers = [...l.drivers, ...l.brokenFixtures].map((d) => {
    const only = l.caseSubsets[d.name];
    return only ? `${d.name}: ${only.join(" ")}` : d.name;
  });
  return `${l.cluster} (${drivers.join(", ")})`;
}
