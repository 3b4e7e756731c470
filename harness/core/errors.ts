/**
 * The error hierarchy. Every error volcert raises on purpose is one of these; each maps to an exit
 * code and to an Allure category, so a vendor can tell "your driver is broken" from "our machine is
 * broken" from "volcert is broken".
 */
export type ErrorCategory = "config" | "infrastructure" | "driver" | "harness";

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

/** Bad user input: driver file, config, CLI flags. Nothing was changed on any cluster. */
export class ConfigError extends VolcertError {
  readonly category = "config" as const;
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = [], options?: { fix?: string }) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join("\n")}` : message, options);
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

export const exitCodes: Record<ErrorCategory | "ok", number> = {
  ok: 0,
  driver: 1,
  config: 2,
  infrastructure: 3,
  harness: 4,
};

export function exitCodeFor(err: unknown): number {
  return err instanceof VolcertError ? exitCodes[err.category] : exitCodes.harness;
}

/** One line (plus fix) suitable for a terminal. */
export function describeError(err: unknown): string {
  if (err instanceof VolcertError) {
    return `${err.category} error: ${err.message}${err.fix ? `\n  fix: ${err.fix}` : ""}`;
  }
  return err instanceof Error ? `unexpected error: ${err.stack ?? err.message}` : `unexpected error: ${String(err)}`;
}
