/**
 * Capability gating, decided before any cluster work: a case states what it needs and gets either
 * "run" or a skip reason that names the missing capability (never a silent pass).
 */
import type { CapabilityKey, DriverFile } from "./schema.ts";

export interface Requirement {
  capabilities?: CapabilityKey[];
  /** Capabilities that must be false/absent (e.g. a multi-node test needs !singleNodeVolume). */
  lacking?: CapabilityKey[];
  /** The driver must offer a StorageClass (dynamic provisioning). */
  dynamic?: boolean;
  types?: DriverFile["spec"]["type"][];
  accessModes?: DriverFile["spec"]["accessModes"];
}

export function skipReason(d: DriverFile, req: Requirement): string | null {
  if (d.spec.unsupportedHere) return `cannot run on this machine: ${d.spec.unsupportedHere}`;
  if (req.types && !req.types.includes(d.spec.type)) return `needs a ${req.types.join(" or ")} driver; ${d.metadata.name} is ${d.spec.type}`;
  for (const c of req.capabilities ?? []) if (!d.spec.capabilities[c]) return `driver does not declare capability "${c}"`;
  for (const c of req.lacking ?? []) if (d.spec.capabilities[c]) return `not applicable: driver declares "${c}"`;
  if (req.dynamic && !d.spec.storageClasses.length) return "driver offers no StorageClass (no dynamic provisioning)";
  for (const m of req.accessModes ?? []) if (!d.spec.accessModes.includes(m)) return `driver does not offer access mode ${m}`;
  return null;
}
