/**
 * How the e2e suite files share the machine: how many cases of one file run at once, and which
 * files start first. Read by vitest.config.ts in the CLI's Vitest child process.
 *
 * Concurrency. Next to chaos lanes the two cores are busy (99 % in the main job's e2e phase), so a
 * file runs 4 cases at a time; alone on the cluster (`--no-chaos`, or chaos run after the e2e
 * suites) the cases mostly wait (namespace and volume deletion, pods starting: the machine was
 * 62 % busy with 4), so a file runs 10 at a time (docs/benchmarks.md, 2026-12-04: e2e 6m33s →
 * 4m59s, the same CPU-seconds). The CLI passes its choice in VOLCERT_CASE_CONCURRENCY; plain
 * `vitest` without it gets 4.
 *
 * Order. Three workers take files one after the other, so a heavy file that starts late is the
 * tail of the run (access-modes, 49 cases, started at 75 s and ended last). Files start heaviest
 * first by their measured case-seconds; files not listed keep Vitest's own order, after them
 * (the sequencer itself is in e2e-sequencer.ts: it loads Vitest, which the CLI need not).
 */
import type { TestSpecification } from "vitest/node";

export const CASE_CONCURRENCY_ENV = "VOLCERT_CASE_CONCURRENCY";
export const CASE_CONCURRENCY = { nextToChaos: 4, alone: 10 } as const;

/** The per-file concurrency from the environment (validated: an integer from 1 to 32). */
export function caseConcurrency(env: string | undefined): number {
  if (env === undefined || env === "") return CASE_CONCURRENCY.nextToChaos;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new Error(`${CASE_CONCURRENCY_ENV}=${env}: expected an integer from 1 to 32 (set by volcert's CLI)`);
  return n;
}

/**
 * Case-seconds per e2e suite directory, five reference drivers, `npm start -- --no-chaos` on
 * d5ffba9 with 10 cases at a time (2026-12-04). Only the order matters, so a few seconds of drift
 * change nothing; a new suite without an entry runs after these.
 */
export const SUITE_WEIGHT: Readonly<Record<string, number>> = {
  "access-modes": 1440,
  provisioning: 647,
  binding: 380,
  expansion: 353,
  snapshots: 324,
  reclaim: 220,
  install: 183,
  emptydir: 167,
  "local-pv": 161,
  capacity: 126,
  attach: 79,
  "volume-mode": 47,
  smoke: 25,
  limits: 1,
};

/** The suite directory of a test file (suites/<dir>/...), or undefined outside suites/. */
export function suiteOf(moduleId: string): string | undefined {
  return /(?:^|\/)suites\/([^/]+)\/[^/]+$/.exec(moduleId)?.[1];
}

type File = Pick<TestSpecification, "moduleId"> & { project: { name: string } };

/**
 * The cluster smoke check, then the heaviest suites first, within each project (projects keep the order they came in); a stable
 * sort, so unweighted files keep theirs.
 */
export function heaviestFirst<T extends File>(files: readonly T[]): T[] {
  // The cluster smoke check goes first whatever it weighs: a broken cluster shows at once.
  const weight = (f: T) =>
    suiteOf(f.moduleId) === "smoke" ? Number.MAX_SAFE_INTEGER : (SUITE_WEIGHT[suiteOf(f.moduleId) ?? ""] ?? 0);
  const projects = new Map<string, T[]>();
  for (const f of files) projects.set(f.project.name, [...(projects.get(f.project.name) ?? []), f]);
  return [...projects.values()].flatMap((group) => group.sort((a, b) => weight(b) - weight(a)));
}
