/**
 * The certification verdict per driver. The driver's declared capabilities decide which catalog
 * cases apply to it (its profile: the driver-dependent part of the gate); `--require` adds IDs or
 * areas that must run and pass whatever the driver declares. A driver is CERTIFIED when every case
 * of its profile ran and passed; NOT CERTIFIED when one failed (or a required one could not run
 * because the driver does not declare what it needs); INCOMPLETE when profile cases did not run
 * for reasons outside the driver (filtered with --case, an environment that cannot run them).
 * Pure functions over the results, so they are unit-tested.
 */
import { driverGateReason, type CaseRequirement } from "../case/gate.ts";
import type { ErrorCategory } from "../core/errors.ts";
import type { DriverFile } from "../drivers/schema.ts";

export interface CatalogCase {
  id: string;
  area: string;
  perDriver: boolean;
  requires?: CaseRequirement | undefined;
}

export interface CaseResult {
  id: string;
  title: string;
  /** Driver name, or "(cluster)" for cases run once per cluster. */
  driver: string;
  status: "passed" | "failed" | "skipped";
  blame?: ErrorCategory;
  durationMs?: number;
  skipReason?: string;
}

export interface Profile {
  driver: string;
  /** Case IDs the driver's declared capabilities make applicable. */
  applicable: string[];
  /** Case IDs outside the profile, with the reason (what the driver does not declare). */
  outside: { id: string; reason: string }[];
  /** Case IDs --require adds (they must pass even if outside the profile). */
  required: string[];
  /** What the declaration itself tells a user, whatever the cases found (shown with the verdict). */
  notes: string[];
}

/**
 * Notes on a declaration. A volume that lives on one node (`singleNodeVolume`) of a driver that
 * does not declare `topology` has no node affinity the driver promises: the scheduler cannot know
 * where its data is and may start a pod on a node without it (seen in the chaos suite when a pod
 * is re-created). Not a failure: whoever creates such PVs must give them node affinity.
 */
export function declarationNotes(driver: DriverFile): string[] {
  const c = driver.spec.capabilities;
  return c.singleNodeVolume && !c.topology
    ? [
        "singleNodeVolume without topology: the scheduler cannot place pods where a volume's data is (no node affinity from the driver); PVs need node affinity from whoever creates them",
      ]
    : [];
}

export type DriverVerdict = "CERTIFIED" | "NOT CERTIFIED" | "INCOMPLETE";

export interface Verdict {
  driver: string;
  verdict: DriverVerdict;
  /** Why it is not CERTIFIED (empty when it is). */
  reasons: string[];
  /** Per area: passed, failed, skipped (with reasons). */
  areas: Record<string, { passed: string[]; failed: string[]; skipped: { id: string; reason: string }[] }>;
  /** Whose problem keeps the verdict from CERTIFIED: the driver's, or the run's (config). */
  gate: "pass" | "driver" | "config";
}

const matches = (id: string, selectors: readonly string[]) => selectors.some((s) => s === id || s === id.split("-")[0]);

export function profileFor(
  driver: DriverFile,
  catalog: readonly CatalogCase[],
  require: readonly string[] = [],
): Profile {
  const applicable: string[] = [];
  const outside: Profile["outside"] = [];
  for (const c of catalog.filter((c) => c.perDriver)) {
    const reason = driverGateReason(c.requires, driver);
    if (reason) outside.push({ id: c.id, reason });
    else applicable.push(c.id);
  }
  const required = catalog.filter((c) => c.perDriver && matches(c.id, require)).map((c) => c.id);
  return { driver: driver.metadata.name, applicable, outside, required, notes: declarationNotes(driver) };
}

/**
 * The verdict for one driver from its profile and the run's results. `failOnSkip`: a profile case
 * that was skipped fails the gate like a --require'd one.
 */
export function verdictFor(profile: Profile, results: readonly CaseResult[], opts: { failOnSkip: boolean }): Verdict {
  const own = results.filter((r) => r.driver === profile.driver);
  const areas: Verdict["areas"] = {};
  for (const r of own) {
    const area = (areas[r.id.split("-")[0] as string] ??= { passed: [], failed: [], skipped: [] });
    if (r.status === "passed") area.passed.push(r.id);
    else if (r.status === "failed") area.failed.push(r.id);
    else area.skipped.push({ id: r.id, reason: r.skipReason ?? "skipped" });
  }
  const reasons: string[] = [];
  let gate: Verdict["gate"] = "pass";
  const failed = own.filter((r) => r.status === "failed");
  for (const r of failed)
    reasons.push(`${r.id} failed${r.blame ? ` (${r.blame === "harness" ? "volcert" : r.blame})` : ""}`);
  if (failed.some((r) => r.blame === "driver")) gate = "driver";
  const byId = new Map(own.map((r) => [r.id, r]));
  let incomplete = false;
  for (const id of profile.required) {
    const r = byId.get(id);
    if (r?.status === "passed" || r?.status === "failed") continue;
    const why = profile.outside.find((o) => o.id === id)?.reason ?? r?.skipReason ?? "it did not run (filtered out)";
    reasons.push(`${id} is required (--require) but did not run: ${why}`);
    if (profile.outside.some((o) => o.id === id)) gate = "driver";
    else if (gate === "pass") gate = "config";
  }
  for (const id of profile.applicable.filter((i) => !profile.required.includes(i))) {
    const r = byId.get(id);
    if (r?.status === "passed" || r?.status === "failed") continue;
    incomplete = true;
    reasons.push(`${id} is in the profile but did not run: ${r?.skipReason ?? "filtered out of this run"}`);
    if (opts.failOnSkip && gate === "pass") gate = "config";
  }
  // A failure that is not the driver's (an outage, a volcert bug) leaves the verdict open, never "NOT CERTIFIED".
  const verdict: DriverVerdict =
    gate === "driver" ? "NOT CERTIFIED" : incomplete || reasons.length ? "INCOMPLETE" : "CERTIFIED";
  return { driver: profile.driver, verdict, reasons, areas, gate };
}
