/**
 * The error hierarchy. Every error volcert raises on purpose is one of these; each maps to an exit
 * code and to an Allure category, so a vendor can tell "your driver is broken" from "our machine is
 * broken" from "volcert is broken".
 */
export type ErrorCategory = "config" | "infrastructure" | "driver" | "harness";

/** Whom a wait's timeout (or a check's failure) blames. */
export type Blame = "driver" | "infrastructure";

export abstract class VolcertError extends Error {
  abstract readonly category: ErrorCategory;
  /** Optional hint telling the user how to fix the cause. */
  readonly fix: string | undefined;
  constructor(message: string, options?: { cause?: unknown; fix?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fix = options?.fix;
  }
}

/** A message lists at most this many problems (a file of garbage must not flood the terminal). */
export const MAX_PROBLEMS_SHOWN = 40;

/** Bad user input: driver file, config, CLI flags. Nothing was changed on any cluster. */
export class ConfigError extends VolcertError {
  readonly category = "config" as const;
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = [], options?: { fix?: string }) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`  … and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
    super(problems.length ? `${message}\n${shown.join("\n")}` : message, options);
    this.problems = problems;
  }
}

/** The machine, Docker, the image build or the cluster is not in a state we can test on. */
export class InfraError extends VolcertError {
  readonly category = "infrastructure" as const;
}

/** The driver under test did not do what it declared. */
export class DriverDefect extends VolcertError {
  readonly category = "driver" as const;
}

/** volcert itself is wrong (an assumption about its own code failed). */
export class HarnessBug extends VolcertError {
  readonly category = "harness" as const;
}

/** An error of a given category (to re-raise a failure recorded elsewhere, e.g. by the CLI). */
export function errorOfCategory(category: ErrorCategory, message: string): VolcertError {
  if (category === "driver") return new DriverDefect(message);
  if (category === "infrastructure") return new InfraError(message);
  if (category === "config") return new ConfigError(message);
  return new HarnessBug(message);
}

export const exitCodes: Record<ErrorCategory | "ok", number> = {
  ok: 0,
  driver: 1,
  config: 2,
  infrastructure: 3,
  harness: 4,
};

export function exitCodeFor(err: unknown): number {
  return exitCodes[categoryOf(err)];
}

/** The shape of an error after Vitest serialised it from a worker (own fields kept, class lost). */
export interface ErrorLike {
  name?: string;
  message?: string;
  category?: unknown;
}

const CATEGORIES: readonly ErrorCategory[] = ["config", "infrastructure", "driver", "harness"];

/**
 * Whose failure an error is, for a live error or one serialised by Vitest:
 * - volcert's own errors carry their category;
 * - a failed `expect` (AssertionError) is an assertion about the driver, so the driver's;
 * - anything else (TypeError, a Vitest test timeout that fired before the case's own budget...)
 *   is a volcert bug: volcert should have classified it.
 */
export function categoryOf(err: unknown): ErrorCategory {
  if (err instanceof VolcertError) return err.category;
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorLike;
  if (typeof e.category === "string" && (CATEGORIES as readonly string[]).includes(e.category)) {
    return e.category as ErrorCategory;
  }
  if (e.name === "AssertionError" || e.name === "AssertionError2") return "driver";
  return "harness";
}

/**
 * The run's exit code from the categories of its failures: 1 if the driver failed anything (that
 * is the verdict a vendor gates on), else 4 if volcert failed, else 2 for bad input, else 3 if
 * only infrastructure failed, 0 if nothing failed.
 */
export function exitCodeForFailures(categories: readonly ErrorCategory[]): number {
  for (const c of ["driver", "harness", "config", "infrastructure"] as const) {
    if (categories.includes(c)) return exitCodes[c];
  }
  return exitCodes.ok;
}

/** One line (plus fix) suitable for a terminal. */
export function describeError(err: unknown): string {
  if (err instanceof VolcertError) {
    return `${err.category} error: ${err.message}${err.fix ? `\n  fix: ${err.fix}` : ""}`;
  }
  return err instanceof Error ? `unexpected error: ${err.stack ?? err.message}` : `unexpected error: ${String(err)}`;
}

/**
 * A case that tests no driver (SMOKE, ED: titles without "[driver]") checks the cluster itself,
 * so a failed assertion there is the infrastructure's, never a driver's.
 */
export function clusterCaseCategory(title: string, category: ErrorCategory): ErrorCategory {
  return category === "driver" && !/\[[a-z0-9-]+\]$/.test(title.trim()) ? "infrastructure" : category;
}
