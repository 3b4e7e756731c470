/**
 * One cluster of a run and what happens on it, start to end: the cluster (created, reused or
 * attached), the drivers installed there, the suites that run there, its logs after a failure,
 * and its release (faults healed from the journal, drivers uninstalled, the cluster deleted unless
 * kept). The main cluster runs the non-disruptive suites; each chaos lane (plan.ts ChaosLane) is a
 * cluster of its own where the NF suite runs for a group of drivers at the same time.
 */
import { join } from "node:path";
import { currentSignal, withSignal } from "../core/abort.ts";
import { describeError } from "../core/errors.ts";
import type { RunJournal } from "../core/journal.ts";
import { say, step } from "../core/progress.ts";
import type { RunCluster, RunContext } from "../core/run-context.ts";
import type { ImageTable } from "../drivers/builtin-images.ts";
import type { InstallFailure } from "../drivers/install-failure.ts";
import { installDrivers, InstallStopped, type InstalledDrivers } from "../drivers/install.ts";
import { installSnapshotApi, missingSnapshotCrds, type SnapshotApiObjects } from "../drivers/snapshot-api.ts";
import type { DriverFile } from "../drivers/schema.ts";
import { Kube } from "../k8s/kube.ts";
import type { ClusterTarget } from "./cluster-target.ts";
import { detachLoops, healFaults, printSettle } from "./journal-settle.ts";
import type { SuiteOutcome } from "./vitest-runner.ts";

export interface DriverInstall {
  definition: DriverFile;
  baseDir: string;
  images: string[];
  /** Already in the cluster: tested as it is, never installed or uninstalled. */
  installed: boolean;
}

/** The run context without what each lane decides (its cluster, drivers and install failures). */
export type SharedContext = Omit<RunContext, "cluster" | "installFailures">;

export interface Lane {
  /** The cluster's name (for messages before it exists). */
  name: string;
  /** Appended to the lane's progress lines ("" for the main cluster). */
  label: string;
  target(): Promise<ClusterTarget>;
  install: DriverInstall[];
  /** The VolumeSnapshot API, when a driver of this lane needs it (spec.cluster.volumeSnapshots). */
  snapshotApi?: SnapshotApiObjects;
  context: SharedContext;
  /** Leave the cluster (and the drivers in it) in place. */
  keep: boolean;
  /** Uninstall even when kept (a cluster volcert did not create). */
  alwaysUninstall: boolean;
  /** What runs on the cluster; returns whether anything failed (then the cluster's logs are exported). */
  work(context: RunContext, target: ClusterTarget): Promise<boolean>;
  /** Before the cluster is released (repro instructions for a kept case). */
  beforeRelease?(target: ClusterTarget): Promise<void>;
}

export interface LaneDeps {
  journal: RunJournal;
  kubectl: string;
  helm: string;
  builtinRewrites: ImageTable;
  runDir: string;
  /** Aborted only by a second Ctrl-C (harness/core/interrupt.ts): what the release runs under. */
  cleanupSignal: AbortSignal;
  /** Records a driver's failed install (evidence in `dir`) and says so. */
  recordFailure(kube: Kube, d: DriverFile, error: unknown, dir: string): Promise<InstallFailure>;
}

export async function runLane(lane: Lane, deps: LaneDeps): Promise<void> {
  const target = await lane.target();
  const { cluster, access } = target;
  const kube = new Kube(cluster.kubeconfigPath, deps.kubectl);
  let installed: InstalledDrivers | null = null;
  const installFailures: InstallFailure[] = [];
  try {
    target.preloadImages?.(laneImages(lane, target));
    // The cluster's part first; drivers that need it and cannot have it fail their install, as
    // infrastructure (it is volcert's), and the others are tested.
    const apiFailures = lane.snapshotApi ? await provideSnapshotApi(lane, target, kube, deps) : [];
    installFailures.push(...apiFailures);
    const install = lane.install.filter((d) => !apiFailures.some((f) => f.driver === d.definition.metadata.name));
    const names = install.map((d) => d.definition.metadata.name).join(", ");
    installed = await step(`install drivers${lane.label}: ${names}`, () =>
      installDrivers(install, {
        kube,
        nodes: access.shell,
        helm: deps.helm,
        builtinRewrites: deps.builtinRewrites,
        loadImages: (images) => target.loadImages(images),
        missingImages: (images) => target.missingImages(images),
        // A driver that fails to install fails its cases, with evidence; the others are tested.
        onFailure: async (d, error) => {
          const dir = join(deps.runDir, "install-failures", ...(lane.label ? [cluster.name] : []), d.metadata.name);
          installFailures.push(await deps.recordFailure(kube, d, error, dir));
        },
      }),
    ).catch((err: unknown) => {
      // Stopped mid-install: what is in the cluster (a partial install too) goes in the release.
      if (err instanceof InstallStopped) installed = err.installed;
      throw err;
    });
    const context: RunContext = {
      ...lane.context,
      cluster: await describeCluster(kube, target),
      installFailures,
    };
    const failed = await lane.work(context, target);
    if (failed) {
      const logs = await target.exportLogs(join(deps.runDir, "cluster-logs", cluster.name)).catch(() => null);
      if (logs) say(`cluster logs exported to ${logs}`);
    }
  } finally {
    // A teardown that fails is reported, never instead of the verdict (runMain's settle retries).
    // Under the cleanup signal: a stopped run still heals, uninstalls and deletes (only a second Ctrl-C aborts it).
    await withSignal(deps.cleanupSignal, release).catch((err: unknown) =>
      say(
        `✘ teardown of ${cluster.name} failed (the verdict stands; \`volcert cluster sweep\` removes what is left): ${describeError(err)}`,
      ),
    );
  }

  async function release(): Promise<void> {
    // A preload nobody waited for (the installs needing it failed first) must not outlive the lane.
    await target.settleImages?.();
    // Faults a stopped case could not heal (a killed worker) are healed from the journal first.
    const left = deps.journal.openEntries().filter((e) => e.cluster.name === cluster.name);
    if (left.some((e) => e.record.kind !== "cluster")) {
      const exists = async () => true;
      printSettle("healing from the journal", await healFaults(left, { kubectl: deps.kubectl, clusterExists: exists }));
      // Read again: healing closed the fault entries, the loop devices are what is still open.
      const loops = deps.journal.openEntries().filter((e) => e.cluster.name === cluster.name);
      printSettle("loop devices from the journal", await detachLoops(loops, { clusterExists: exists }));
    }
    // What volcert installed goes again, unless a kind cluster is kept for debugging; on an existing
    // cluster always (drivers that were there before are never uninstalled, only volcert's classes).
    if ((!lane.keep || lane.alwaysUninstall) && installed) {
      await Promise.resolve(installed[Symbol.asyncDispose]()).catch((err: unknown) =>
        say(`uninstalling the drivers from ${cluster.name} failed: ${describeError(err)}`),
      );
    }
    await lane.beforeRelease?.(target);
    await target.release(lane.keep);
  }
}

/** Every image the lane's installs will load: the VolumeSnapshot API's (where volcert installs it) and its drivers'. */
export function laneImages(lane: Lane, target: ClusterTarget): string[] {
  return [
    ...(lane.snapshotApi && target.cluster.createdByVolcert ? lane.snapshotApi.images : []),
    ...lane.install.filter((d) => !d.installed).flatMap((d) => d.images),
  ];
}

/**
 * Installs the VolumeSnapshot API into a cluster volcert created; on any other cluster only
 * checks it is served (volcert never adds cluster components there). Returns the install
 * failures of the drivers that need it when it cannot be had.
 */
async function provideSnapshotApi(
  lane: Lane,
  target: ClusterTarget,
  kube: Kube,
  deps: LaneDeps,
): Promise<InstallFailure[]> {
  const api = lane.snapshotApi as SnapshotApiObjects;
  const needing = lane.install.filter((d) => d.definition.spec.cluster.volumeSnapshots && !d.installed);
  if (!target.cluster.createdByVolcert) {
    const missing = await missingSnapshotCrds(kube, api.crds);
    if (missing.length)
      say(
        `cluster ${target.cluster.name} does not serve the VolumeSnapshot API (missing CRDs: ${missing.join(", ")}), which ${needing.map((d) => d.definition.metadata.name).join(", ") || "its drivers"} need; volcert does not install it into a cluster it did not create`,
      );
    return [];
  }
  try {
    await step(`VolumeSnapshot API${lane.label} (CRDs, snapshot-controller)`, () =>
      installSnapshotApi(api, {
        kube,
        loadImages: (images) => target.loadImages(images),
        missingImages: (images) => target.missingImages(images),
      }),
    );
    return [];
  } catch (error) {
    if (currentSignal()?.aborted) throw error;
    const failures: InstallFailure[] = [];
    for (const d of needing) {
      const dir = join(
        deps.runDir,
        "install-failures",
        ...(lane.label ? [target.cluster.name] : []),
        d.definition.metadata.name,
      );
      failures.push(await deps.recordFailure(kube, d.definition, error, dir));
    }
    return failures;
  }
}

async function describeCluster(kube: Kube, target: ClusterTarget): Promise<RunCluster> {
  const { cluster } = target;
  const nodes = (await kube.core.listNode()).items;
  return {
    name: cluster.name,
    provider: cluster.provider,
    kubeconfig: cluster.kubeconfigPath,
    createdByVolcert: cluster.createdByVolcert,
    expectedNodes: nodes.length,
    workers: nodes
      .filter((n) => n.metadata?.labels?.["node-role.kubernetes.io/control-plane"] === undefined)
      .map((n) => n.metadata?.name ?? "")
      .sort(),
    nodeLifecycle: target.nodeLifecycle,
  };
}

/** Several Vitest runs' outcomes as one (the chaos lanes'); undefined for none. */
export function mergeOutcomes(outcomes: readonly SuiteOutcome[]): SuiteOutcome | undefined {
  if (!outcomes.length) return undefined;
  return outcomes.reduce((a, b) => ({
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
    failedTests: [...a.failedTests, ...b.failedTests],
    failureCategories: [...a.failureCategories, ...b.failureCategories],
    results: [...a.results, ...b.results],
  }));
}
