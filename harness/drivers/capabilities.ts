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
  /** The driver names at least one filesystem type (supportedFsTypes beyond ""). */
  fsTypes?: boolean;
  /** The driver names mount options it supports. */
  mountOptions?: boolean;
  /** The driver says where a volume's data lives on the node (volumeDataPaths), so deletion can be checked there. */
  dataPaths?: boolean;
  /** The driver file names its CSI node plugin workload (spec.csi.node). */
  nodePlugin?: boolean;
}

export function skipReason(d: DriverFile, req: Requirement): string | null {
  if (d.spec.unsupportedHere) return `cannot run on this machine: ${d.spec.unsupportedHere}`;
  if (req.types && !req.types.includes(d.spec.type))
    return `needs a ${req.types.join(" or ")} driver; ${d.metadata.name} is ${d.spec.type}`;
  for (const c of req.capabilities ?? [])
    if (!d.spec.capabilities[c]) return `driver does not declare capability "${c}"`;
  for (const c of req.lacking ?? []) if (d.spec.capabilities[c]) return `not applicable: driver declares "${c}"`;
  if (req.dynamic && !d.spec.storageClasses.length) return "driver offers no StorageClass (no dynamic provisioning)";
  // volcert makes a CSI driver's volumes only through its StorageClasses (as upstream's suites do).
  if (req.capabilities?.includes("persistence") && d.spec.type === "csi" && !d.spec.storageClasses.length)
    return "CSI driver offers no StorageClass, so volcert cannot create volumes of it (add spec.storageClasses, or StorageClass.FromName/FromFile in an upstream file)";
  for (const m of req.accessModes ?? [])
    if (!d.spec.accessModes.includes(m)) return `driver does not offer access mode ${m}`;
  if (req.fsTypes && !d.spec.supportedFsTypes.some(Boolean))
    return "driver declares no filesystem type (supportedFsTypes)";
  if (req.mountOptions && !d.spec.supportedMountOptions.length)
    return "driver declares no mount options (supportedMountOptions)";
  if (req.nodePlugin && !d.spec.csi?.node)
    return "driver file does not name its node plugin workload (spec.csi.node), so the plugin cannot be found or disturbed";
  if (req.dataPaths && !d.spec.volumeDataPaths.length)
    return "driver does not say where volume data lives on the node (volumeDataPaths), so deletion of the data cannot be checked";
  return null;
}
