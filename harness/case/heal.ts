/**
 * Healing after a disruptive case: every fault the case registered is healed (last injected
 * first, each one even if another failed), then the cluster must be healthy again. What is still
 * wrong is sorted by whose it is: a node, kube-system or another driver's workload that does not
 * come back is infrastructure (and every later disruptive case of the run is marked unable to
 * judge, through a marker file in the run directory); the driver under test's own workloads and
 * VolumeAttachments not recovering is the driver's failure.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DriverDefect, InfraError } from "../core/errors.ts";
import type { Fault } from "../faults/fault.ts";

export interface HealthReport {
  /** Problems of the cluster itself (nodes, kube-system, other workloads). */
  infrastructure: string[];
  /** Problems of the driver under test's own workloads and attachments. */
  driver: string[];
}

export interface HealOutcome {
  /** Faults that could not be healed, and cluster problems left: infrastructure. */
  infrastructure: string[];
  /** The driver's own workloads or attachments did not recover. */
  driver: string[];
}

/** Heals every fault (reverse order, all of them) and waits for health; never throws. */
export async function healFaults(
  faults: readonly Fault[],
  waitHealthy: () => Promise<HealthReport>,
  mark: (what: string) => void,
): Promise<HealOutcome> {
  const infrastructure: string[] = [];
  for (const f of [...faults].reverse()) {
    try {
      await f.heal();
    } catch (err) {
      infrastructure.push(`heal "${f.name}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let health: HealthReport;
  try {
    health = await waitHealthy();
  } catch (err) {
    health = { infrastructure: [err instanceof Error ? err.message : String(err)], driver: [] };
  }
  if (!health.infrastructure.length && !health.driver.length) mark("cluster healthy again");
  return { infrastructure: [...infrastructure, ...health.infrastructure], driver: health.driver };
}

/** The error a heal outcome turns into (null when all is well). */
export function healVerdict(caseId: string, outcome: HealOutcome): InfraError | DriverDefect | null {
  if (outcome.infrastructure.length) {
    return new InfraError(
      `the cluster could not be healed after ${caseId}; later disruptive cases are marked infrastructure-broken:\n  - ${outcome.infrastructure.join("\n  - ")}`,
    );
  }
  if (outcome.driver.length) {
    return new DriverDefect(
      `the driver did not recover after the faults of ${caseId} were healed:\n  - ${outcome.driver.join("\n  - ")}`,
    );
  }
  return null;
}

const MARKER = "cluster-broken.txt";

export function markClusterBroken(runDir: string, caseId: string, problems: readonly string[]): void {
  writeFileSync(join(runDir, MARKER), `after ${caseId}: ${problems.join("; ")}\n`);
}

/** Why the cluster cannot judge a driver any more in this run, or null. */
export function clusterBrokenReason(runDir: string): string | null {
  const file = join(runDir, MARKER);
  return existsSync(file) ? readFileSync(file, "utf8").trim() : null;
}
