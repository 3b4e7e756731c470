/**
 * The leak check's result and whose failure it is. Something of the case's volumes left behind
 * (a mount, a loop device, data, a PV, a VolumeAttachment) is the driver's; a cordon or taint the
 * case's faults left, or a class volcert failed to delete, is not; and a probe that could not
 * look (a frozen node, an API error) proves nothing either way: the check fails closed, as
 * infrastructure, naming the probe and the node.
 */
import { DriverDefect, InfraError, type Blame, type VolcertError } from "../core/errors.ts";

export interface Leftover {
  what: string;
  blame: Blame;
}

export interface ProbeFailure {
  /** What could not be looked at ("mountinfo", "list VolumeAttachments", "node shell"). */
  probe: string;
  node?: string;
  error: string;
}

export interface LeakReport {
  leftovers: Leftover[];
  probeFailures: ProbeFailure[];
  /** What was looked at, for the report ("nodes a, b; API"). */
  checked: string;
}

export function isClean(r: LeakReport): boolean {
  return r.leftovers.length === 0 && r.probeFailures.length === 0;
}

export function describeProbeFailure(f: ProbeFailure): string {
  return `could not check ${f.probe}${f.node ? ` on node ${f.node}` : ""}: ${f.error}`;
}

/**
 * The leak check's failure, or null: the driver's when it left anything of its own (the other
 * findings are listed with it), otherwise infrastructure.
 */
export function leakError(caseId: string, r: LeakReport): VolcertError | null {
  if (isClean(r)) return null;
  const driver = r.leftovers.filter((l) => l.blame === "driver").map((l) => l.what);
  const other = r.leftovers.filter((l) => l.blame !== "driver").map((l) => `${l.what} (not the driver's)`);
  const probes = r.probeFailures.map(describeProbeFailure);
  const list = (items: string[]) => items.map((i) => `  - ${i}`).join("\n");
  if (driver.length) {
    const also = [...other, ...probes];
    return new DriverDefect(
      `leak check failed after ${caseId}:\n${list(driver)}${also.length ? `\n  also:\n${list(also).replace(/^/gm, "  ")}` : ""}`,
    );
  }
  if (other.length)
    return new InfraError(
      `leak check failed after ${caseId}, not because of the driver:\n${list([...other, ...probes])}`,
    );
  return new InfraError(
    `leak check after ${caseId} could not look everywhere, so it fails (nothing of the driver's was found where it could look):\n${list(probes)}`,
  );
}

/** The report's text: what was checked, and every finding with whose it is. */
export function renderLeakReport(r: LeakReport): string {
  if (isClean(r)) return `nothing left behind (checked ${r.checked})`;
  return [
    `checked ${r.checked}`,
    ...r.leftovers.map((l) => `left behind (${l.blame === "driver" ? "driver" : "not the driver"}): ${l.what}`),
    ...r.probeFailures.map((f) => `probe failed (infrastructure): ${describeProbeFailure(f)}`),
  ].join("\n");
}
