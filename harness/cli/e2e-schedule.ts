/**
 * How the e2e suite files share the machine: how many cases of one file run at once, and which
 * files start first. The CLI (run.ts, vitest-runner.ts) and vitest.config.ts, evaluated in the
 * CLI's Vitest child process, read it.
 *
 * Concurrency. Next to chaos lanes the two cores are busy (99 % in the main job's e2e phase), so a
 * file runs 4 cases at a time; when the suites have the machine to themselves (`--no-chaos`, or
 * chaos run after them) the cases mostly wait (namespace and volume deletion, pods starting: 36 %
 * of the CPU idle with 4), so a file runs 10 at a time (docs/benchmarks.md, 2026-12-04: e2e 6m33s
 * → 4m59s, the same CPU-seconds). 10 was measured with a local kind cluster; a cluster given by
 * `--kubeconfig` gets it too (its nodes are not on this machine's cores, so it has more room, not
 * less). The CLI passes its choice in VOLCERT_CASE_CONCURRENCY; plain `vitest` without it gets 4.
 *
 * Order. Three workers take files one after the other, so a heavy file that starts late is the
 * tail of the run (access-modes, 49 cases, started at 76 s and ended last). The cluster smoke
 * check goes first (a broken cluster shows at once), then the files by their suite's measured
 * case-seconds, heaviest first; Vitest's own order decides only among files of equal weight (the
 * sequencer is in e2e-sequencer.ts: it loads Vitest, which the CLI need not).
 */
import type { TestSpecification } from "vitest/node";

export const CASE_CONCURRENCY_ENV = "VOLCERT_CASE_CONCURRENCY";
export const CASE_CONCURRENCY = { nextToChaos: 4, alone: 10 } as const;

/** The per-file concurrency from the environment (validated: an integer from 1 to 32). */
export function caseConcurrency(env: string | undefined): number {
  if (env === undefined || env === "") return CASE_CONCURRENCY.nextToChaos;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new Error(
      `${CASE_CONCURRENCY_ENV}=${env}: expected an integer from 1 to 32 (volcert's CLI sets it; unset it to get ${CASE_CONCURRENCY.nextToChaos})`,
    );
  return n;
}

/** The suite that runs before all others, whatever it weighs. */
export const FIRST_SUITE = "smoke";

/**
 * Case-seconds per e2e suite directory, five reference drivers, `npm start -- --no-chaos` on
 * d5ffba9 with 10 cases at a time (2026-12-04). Only the order matters, so a few seconds of drift
 * change nothing; a new suite without an entry runs after these (a unit test asks for one).
 */
export const SUITE_WEIGHT: ReadonlyMap<string, number> = new Map([
  ["access-modes", 1440],
  ["provisioning", 647],
  ["binding", 380],
  ["expansion", 353],
  ["snapshots", 324],
  ["reclaim", 220],
  ["install", 183],
  ["emptydir", 167],
  ["local-pv", 161],
  ["capacity", 126],
  ["attach", 79],
  ["volume-mode", 47],
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
 * then the heaviest suites; a stable sort, so files of equal weight keep theirs.
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
