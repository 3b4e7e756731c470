/**
 * Runs the image build plan: derives every step's cache key (its inputs plus its dependencies'
 * keys), skips steps whose output already exists under that key, and runs the rest as soon as
 * their dependencies are done, one step at a time per lane (Go builds, debootstrap, Docker), so
 * CPU-bound compiles overlap with downloads. One progress line per step, with its duration.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HarnessBug } from "../../harness/core/errors.ts";
import { formatDuration, say } from "../../harness/core/progress.ts";
import { withLock } from "../../harness/core/lock.ts";
import { BUILDING_SUFFIX, cachePaths, freshDir, hashOf, isComplete, markComplete } from "./cache.ts";
import { imageKey, pruneReplacedImages, untagOwnUpstreamNames } from "./docker-images.ts";
import { checkGo } from "./go.ts";
import { upstreamNames, type Manifest } from "./manifest.ts";
import { buildPlan, type BuildStep, type Lane } from "./plan.ts";
import { ensureDebootstrap } from "./rootfs.ts";

/** Bump to invalidate every cached output when the toolchain's own behaviour changes. */
const TOOLCHAIN_REVISION = 1;

export interface StepResult {
  id: string;
  title: string;
  key: string;
  cached: boolean;
  durationMs: number;
}

export interface BuildReport {
  startedAt: string;
  totalMs: number;
  steps: StepResult[];
  reportFile: string;
}

export function stepKeys(steps: readonly BuildStep[]): Map<string, string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const keys = new Map<string, string>();
  const keyOf = (id: string, trail: string[]): string => {
    const known = keys.get(id);
    if (known) return known;
    const step = byId.get(id);
    if (!step) throw new HarnessBug(`build step ${trail.at(-1)} depends on unknown step ${id}`);
    if (trail.includes(id)) throw new HarnessBug(`build steps form a cycle: ${[...trail, id].join(" → ")}`);
    const key = hashOf({
      rev: TOOLCHAIN_REVISION,
      id,
      inputs: step.inputs,
      deps: step.deps.map((d) => keyOf(d, [...trail, id])),
    });
    keys.set(id, key);
    return key;
  };
  for (const s of steps) keyOf(s.id, []);
  return keys;
}

/** Steps needed to produce `targets` (all steps when empty), in plan order. */
export function selectSteps(steps: readonly BuildStep[], targets: readonly string[]): BuildStep[] {
  if (!targets.length) return [...steps];
  const byId = new Map(steps.map((s) => [s.id, s]));
  const wanted = new Set<string>();
  const add = (id: string) => {
    if (wanted.has(id)) return;
    const s = byId.get(id);
    if (!s) throw new HarnessBug(`unknown build step ${id}`);
    wanted.add(id);
    s.deps.forEach(add);
  };
  targets.forEach(add);
  return steps.filter((s) => wanted.has(s.id));
}

/**
 * The steps a run builds: every step but the on-demand ones, plus those producing an image in
 * `needed` (the images of the drivers selected, after rewrites) and the on-demand steps named in
 * `neededSteps` (what the run installs besides the drivers: the VolumeSnapshot API's manifests).
 * Dependencies follow (selectSteps).
 */
export function runTargets(
  steps: readonly BuildStep[],
  needed: readonly string[],
  neededSteps: readonly string[] = [],
): string[] {
  const wanted = new Set(needed);
  for (const id of neededSteps)
    if (!steps.some((s) => s.id === id)) throw new HarnessBug(`a run needs unknown build step ${id}`);
  return steps
    .filter((s) => !s.onDemand || s.images.some((i) => wanted.has(i)) || neededSteps.includes(s.id))
    .map((s) => s.id);
}

async function isFresh(step: BuildStep, key: string): Promise<boolean> {
  if (step.images.length) {
    for (const image of step.images) if ((await imageKey(image)) !== key) return false;
    return step.current ? step.current() : true;
  }
  return isComplete(cachePaths.out(step.id, key));
}

class Lanes {
  private tails = new Map<Lane, Promise<unknown>>();
  run<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(lane) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.tails.set(lane, next);
    return next;
  }
}

/**
 * Builds what is not cached. Building holds the machine's build lock (two runs on one machine
 * would otherwise delete each other's half-built outputs); what is cached is only read, unlocked.
 */
export async function buildImages(manifest: Manifest, opts: { targets?: string[] } = {}): Promise<BuildReport> {
  const plan = buildPlan(manifest);
  const keys = stepKeys(plan);
  const steps = selectSteps(plan, opts.targets ?? []);
  for (const s of steps)
    if (!(await isFresh(s, keys.get(s.id) as string)))
      return withLock("build", "image build", 90 * 60_000, () => buildUnlocked(manifest, opts));
  return buildUnlocked(manifest, opts);
}

async function buildUnlocked(manifest: Manifest, opts: { targets?: string[] }): Promise<BuildReport> {
  const started = Date.now();
  const plan = buildPlan(manifest);
  const keys = stepKeys(plan);
  const steps = selectSteps(plan, opts.targets ?? []);
  const logDir = join(cachePaths.logs(), `build-${new Date(started).toISOString().replace(/[:.]/g, "-")}`);
  await mkdir(logDir, { recursive: true });

  const fresh = new Map<string, boolean>();
  for (const s of steps) fresh.set(s.id, await isFresh(s, keys.get(s.id) as string));
  const toBuild = steps.filter((s) => !fresh.get(s.id));
  if (toBuild.length) {
    if (toBuild.some((s) => !s.images.length)) say(`using ${await checkGo()}`);
    if (toBuild.some((s) => s.id.startsWith("rootfs-"))) await ensureDebootstrap();
    say(`${toBuild.length} of ${steps.length} build steps to run; logs in ${logDir}`);
  }

  const lanes = new Lanes();
  const results: StepResult[] = [];
  const running = new Map<string, Promise<void>>();
  const depDir = (id: string) => cachePaths.out(id, keys.get(id) as string);
  const runStep = (s: BuildStep): Promise<void> => {
    const existing = running.get(s.id);
    if (existing) return existing;
    const p = (async () => {
      await Promise.all(
        s.deps
          .filter((d) => steps.some((x) => x.id === d))
          .map((d) => runStep(steps.find((x) => x.id === d) as BuildStep)),
      );
      const key = keys.get(s.id) as string;
      if (fresh.get(s.id)) {
        results.push({ id: s.id, title: s.title, key, cached: true, durationMs: 0 });
        say(`✔ ${s.title} (cached)`);
        return;
      }
      await lanes.run(s.lane, async () => {
        const t0 = Date.now();
        say(`▶ ${s.title}`);
        // Built beside its final place and renamed into it once complete: a reader never sees a
        // half-written output under the key (the build lock keeps builders apart).
        const final = cachePaths.out(s.id, key);
        const dir = await freshDir(`${final}${BUILDING_SUFFIX}${process.pid}`);
        const logFile = join(logDir, `${s.id}.log`);
        try {
          await s.run({ key, dir, logFile, depDir });
        } catch (err) {
          say(`✘ ${s.title} (failed after ${formatDuration(Date.now() - t0)}; log: ${logFile})`);
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
        const durationMs = Date.now() - t0;
        if (!s.images.length) await markComplete(dir, { id: s.id, key, durationMs, builtAt: new Date().toISOString() });
        await rm(final, { recursive: true, force: true });
        await rename(dir, final);
        results.push({ id: s.id, title: s.title, key, cached: false, durationMs });
        say(`✔ ${s.title} (${formatDuration(durationMs)})`);
      });
    })();
    running.set(s.id, p);
    return p;
  };
  const outcomes = await Promise.allSettled(steps.map(runStep));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  const report: BuildReport = {
    startedAt: new Date(started).toISOString(),
    totalMs: Date.now() - started,
    steps: results,
    reportFile: join(logDir, "report.json"),
  };
  await writeFile(report.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  if (failure) throw failure.reason;
  if (toBuild.length) {
    const untagged = await untagOwnUpstreamNames(Object.values(upstreamNames(manifest)));
    if (untagged.length)
      say(`removed upstream names older builds gave volcert's images on this host: ${untagged.join(", ")}`);
    // The images this build replaced (untagged, volcert's label); one a container still uses stays.
    const pruned = await pruneReplacedImages();
    if (pruned) say(`removed ${pruned} image(s) of earlier builds that nothing uses`);
  }
  return report;
}

/** Where a built step's binaries are (for callers that need kind or kubectl). */
export function binaryPath(manifest: Manifest, stepId: string, binary: string): string {
  return join(stepOutput(manifest, stepId), binary);
}

/** The output directory of a directory-producing step under its current key. */
export function stepOutput(manifest: Manifest, stepId: string): string {
  const keys = stepKeys(buildPlan(manifest));
  const key = keys.get(stepId);
  if (!key) throw new HarnessBug(`unknown build step ${stepId}`);
  return cachePaths.out(stepId, key);
}
