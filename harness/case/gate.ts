/**
 * The gate: whether a case runs at all, decided from the driver file and the run's facts before
 * any cluster work. A case that cannot judge this driver here is skipped with the reason (which
 * reaches the report); it is never run to a vacuous pass.
 */
import { skipReason, type Requirement } from "../drivers/capabilities.ts";
import type { DriverFile } from "../drivers/schema.ts";

export type InTreePlugin = NonNullable<DriverFile["spec"]["inTree"]>["plugin"];

export interface CaseRequirement extends Requirement {
  /** Worker nodes the case needs at least. */
  workers?: number;
  /** Worker nodes the case tolerates at most (RP-04: the hostPath recycler is not pinned to a node). */
  maxWorkers?: number;
  /** In-tree plugins the case applies to. */
  inTreePlugins?: InTreePlugin[];
  /** The driver attaches volumes to nodes (VolumeAttachment objects exist for its volumes). */
  attach?: boolean;
  /**
   * The cluster provider controls nodes from outside them: power, freezing, and faults (kubelet
   * stopped, network cut) that would cut off a shell that runs through the node itself. kind can;
   * an existing cluster reached through a helper pod cannot.
   */
  nodeLifecycle?: boolean;
}

/** What the gate knows about the run. */
export interface GateFacts {
  workers: number;
  nodeLifecycle: boolean;
  createdByVolcert: boolean;
  allowDisruptive: boolean;
}

/** True when the driver's volumes go through ControllerPublish and a VolumeAttachment. */
export function driverAttaches(d: DriverFile): boolean {
  return d.spec.type === "csi" && d.spec.csi?.expect.attachRequired === true;
}

/**
 * The part of the gate that depends only on the driver file (capabilities, type, plugin,
 * attachment): a case this returns a reason for is outside the driver's certification profile.
 */
export function driverGateReason(req: CaseRequirement | undefined, driver: DriverFile): string | null {
  if (!req) return null;
  const reason = skipReason(driver, req);
  if (reason) return reason;
  if (req.inTreePlugins) {
    const plugin = driver.spec.inTree?.plugin;
    if (!plugin || !req.inTreePlugins.includes(plugin)) {
      return `applies to the in-tree ${req.inTreePlugins.join(" or ")} plugin; ${driver.metadata.name} is ${plugin ? `in-tree ${plugin}` : driver.spec.type}`;
    }
  }
  if (req.attach && !driverAttaches(driver)) {
    return `not applicable: ${driver.metadata.name} does not attach volumes (no VolumeAttachment; csi.expect.attachRequired is not true)`;
  }
  return null;
}

export function gateReason(
  req: CaseRequirement | undefined,
  disruptive: boolean,
  driver: DriverFile | undefined,
  facts: GateFacts,
): string | null {
  if (disruptive && !facts.createdByVolcert && !facts.allowDisruptive) {
    return "disruptive case on a cluster volcert did not create: pass --allow-disruptive to run it anyway";
  }
  if (!req) return null;
  const reason = driver ? driverGateReason(req, driver) : null;
  if (reason) return reason;
  if (req.workers !== undefined && facts.workers < req.workers) {
    return `needs ${req.workers} worker nodes; this cluster has ${facts.workers} (run with --workers ${req.workers})`;
  }
  if (req.maxWorkers !== undefined && facts.workers > req.maxWorkers) {
    return `needs at most ${req.maxWorkers} schedulable worker node(s); this cluster has ${facts.workers} (run with --workers ${req.maxWorkers})`;
  }
  if (req.nodeLifecycle && !facts.nodeLifecycle) {
    return "needs control of the nodes from outside them (power, freezing, stopping the kubelet, cutting the network), which this cluster's provider does not offer (kind clusters do)";
  }
  return null;
}
