/**
 * One async disposable stack per case: everything a case acquires (its namespace, static volumes,
 * StorageClasses, helper objects) is pushed here and disposed in reverse order when the case
 * ends, passed or failed. Node 20 has no AsyncDisposableStack, hence this small one. A disposal
 * that fails does not stop the others; every failure is collected and reported, never swallowed.
 *
 * Repro mode's "keep the case's objects for inspection" is a disposal policy, not a special path.
 */
import { categoryOf, VolcertError, type ErrorCategory } from "./errors.ts";

export type DisposalPolicy = "dispose" | "keep";

export interface Disposal {
  name: string;
  error: unknown;
}

/** Several disposals failed; the category is the most serious of theirs (a driver's wins). */
export class DisposalFailed extends VolcertError {
  readonly category: ErrorCategory;
  constructor(readonly failures: readonly Disposal[]) {
    super(
      `cleanup failed (${failures.length}):\n${failures
        .map((f) => `  - ${f.name}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
        .join("\n")}`,
    );
    const cats = failures.map((f) => categoryOf(f.error));
    this.category =
      (["driver", "harness", "config", "infrastructure"] as const).find((c) => cats.includes(c)) ?? "harness";
  }
}

export class DisposalStack {
  private readonly entries: { name: string; dispose: () => Promise<void> }[] = [];
  private disposed = false;

  /** Registers a resource; returns it so acquisition reads `const ns = stack.use("namespace", await create())`. */
  use<T extends AsyncDisposable>(name: string, resource: T): T {
    this.defer(name, () => Promise.resolve(resource[Symbol.asyncDispose]()));
    return resource;
  }

  defer(name: string, dispose: () => Promise<void>): void {
    if (this.disposed) throw new Error(`cannot register "${name}": the case's resources were already disposed`);
    this.entries.push({ name, dispose });
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Disposes everything, last acquired first, unless the policy keeps it. Returns what failed
   * (empty when all went); the caller decides how the failures reach the verdict.
   */
  async dispose(policy: DisposalPolicy = "dispose"): Promise<Disposal[]> {
    this.disposed = true;
    const entries = this.entries.splice(0).reverse();
    if (policy === "keep") return [];
    const failures: Disposal[] = [];
    for (const e of entries) {
      try {
        await e.dispose();
      } catch (error) {
        failures.push({ name: e.name, error });
      }
    }
    return failures;
  }
}
