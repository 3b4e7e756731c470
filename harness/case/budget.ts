/**
 * One time budget per case, derived from the driver's timeouts (which already include its
 * timeoutMultiplier), so a slow backend gets more time everywhere at once. The body (setup and
 * checks) gets `bodyMs`; healing, disposal and the leak check get `cleanupMs` on top; Vitest's own
 * timeout is set above both, so it never fires first. If it ever did, the case would keep running
 * (and healing) while the next one injects its fault.
 */
import { driverTimeout } from "../drivers/timeouts.ts";
import type { DriverFile } from "../drivers/schema.ts";

export interface CaseBudget {
  bodyMs: number;
  cleanupMs: number;
  /** What the case's Vitest test gets: body + cleanup + a margin for reporting. */
  vitestMs: number;
}

const MINUTE = 60_000;
/** Fault injection, node NotReady detection, eviction and the node's return, on top of the volume work. */
const DISRUPTIVE_EXTRA_MS = 30 * MINUTE;
/** Healing faults and the post-fault health check (each bounded on its own). */
const HEAL_MS = 10 * MINUTE;

export function caseBudget(driver: DriverFile | undefined, disruptive: boolean): CaseBudget {
  const t = (k: Parameters<typeof driverTimeout>[1]) => driverTimeout(driver, k);
  const volumeWork =
    t("claimBound") + t("claimProvision") + 2 * t("podStart") + 2 * t("podDelete") + t("pvDelete") + t("dataCheck");
  const bodyMs = 2 * volumeWork + (disruptive ? DISRUPTIVE_EXTRA_MS : 0);
  const cleanupMs = (disruptive ? HEAL_MS : 0) + 2 * t("podDelete") + 2 * t("pvDelete") + 2 * MINUTE;
  return { bodyMs, cleanupMs, vitestMs: bodyMs + cleanupMs + MINUTE };
}
