/**
 * How the e2e suite files share the machine: how many cases of one file run at once, how many
 * files at once, and which files start first. The CLI (run.ts, vitest-runner.ts) and
 * vitest.config.ts, evaluated in the CLI's Vitest child process, read it.
 *
 * Concurrency. Next to chaos lanes the two cores are busy (99 % in the main job's e2e phase), so
 * 3 files run at once, 4 cases of each; when the suites have the machine to themselves
 * (`--no-chaos`, or chaos run after them) the cases mostly wait (namespace and volume deletion,
 * pods starting: 36 % of the CPU idle with 4), so 5 files run at once, 10 cases of each
 * (docs/benchmarks.md, 2026-12-04). Measured with a local kind cluster; a cluster given by
 * `--kubeconfig` gets the same (its nodes are not on this machine's cores, so it has more room,
 * not less). The CLI passes its choice in VOLCERT_CASE_CONCURRENCY and VOLCERT_E2E_FILES; plain
 * `vitest` without them gets 4 and 3.
 *
 * Order. Each worker takes files one after the other, so a long file that starts late is the tail
 * of the run (expansion, 6 cases but one of 108 s, started at 106 s and ended at 214 s). The
 * cluster smoke check goes first (a broken cluster shows at once), then the files by the time a
 * file needs, longest first; Vitest's own order decides only among files of equal weight (the
 * sequencer is in e2e-sequencer.ts: it loads Vitest, which the CLI need not).
 */
import type { TestSpecification } from "vitest/node";

export const CASE_CONCURRENCY_ENV = "VOLCERT_CASE_CONCURRENCY";
export const CASE_CONCURRENCY = { nextToChaos: 4, alone: 10 } as const;
export const FILE_WORKERS_ENV = "VOLCERT_E2E_FILES";
export const FILE_WORKERS = { nextToChaos: 3, alone: 5 } as const;

/** The per-file concurrency from the environment (validated: an integer from 1 to 32). */
export function caseConcurrency(env: string | undefined): number {
  return fromEnv(CASE_CONCURRENCY_ENV, env, 32, CASE_CONCURRENCY.nextToChaos);
}

/** How many e2e files run at once (Vitest workers), from the environment (an integer from 1 to 8). */
export function fileWorkers(env: string | undefined): number {
  return fromEnv(FILE_WORKERS_ENV, env, 8, FILE_WORKERS.nextToChaos);
}

function fromEnv(name: string, env: string | undefined, max: number, unset: number): number {
  if (env === undefined || env === "") return unset;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(
      `${name}=${env}: expected an integer from 1 to ${max} (volcert's CLI sets it; unset it to get ${unset})`,
    );
  return n;
}

/** The suite that runs before all others, whatever it weighs. */
export const FIRST_SUITE = "smoke";

/**
 * Seconds a file of each e2e suite directory needs with 10 cases at a time: its longest case or its
 * case-seconds / 10, whichever is more (five reference drivers, `npm start -- --no-chaos` on
 * ff601a7, 2026-12-04). Only the order matters, so a few seconds of drift change nothing; a new
 * suite without an entry runs after these (a unit test asks for one).
 */
export const SUITE_WEIGHT: ReadonlyMap<string, number> = new Map([
  ["access-modes", 158],
  ["expansion", 108],
  ["provisioning", 68],
  ["attach", 61],
  ["snapshots", 58],
  ["capacity", 48],
  ["binding", 46],
  ["reclaim", 41],
  ["volume-mode", 40],
  ["local-pv", 31],
  ["install", 30],
  ["emptydir", 17],
  ["limits", 1],
]);

/** The suite directory of a test file (suites/<dir>/..., nested files included), or undefined. */
export function suiteOf(moduleId: string): string | undefined {
  return /(?:^|\/)suites\/([^/]+)\/.+$/.exec(moduleId)?.[1];
}

type File = Pick<TestSpecification, "moduleId"> & { project: { name: string } };

function rank(moduleId: string): number {
  const suite = suiteOf(moduleId) ?? "";
  return suite === FIRST_SUITE ? Number.MAX_SAFE_INTEGER : (SUITE_WEIGHT.get(suite) ?? 0);
}

/**
 * The e2e file order within each project (projects keep the order they came in): the smoke check,
 * then the longest suites; a stable sort, so files of equal weight keep theirs.
 */
export function e2eFileOrder<T extends File>(files: readonly T[]): T[] {
  const projects = new Map<string, T[]>();
  for (const f of files) {
    const group = projects.get(f.project.name);
    if (group) group.push(f);
    else projects.set(f.project.name, [f]);
  }
  return [...projects.values()].flatMap((group) =>
    group
      .map((f) => ({ f, r: rank(f.moduleId) }))
      .sort((a, b) => b.r - a.r)
      .map(({ f }) => f),
  );
}
