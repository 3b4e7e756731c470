/**
 * What a fault needs from the node provider beyond a shell. Powering a node off, freezing it,
 * cutting its network or stopping its kubelet need the provider to reach the node from outside the
 * cluster: kind does (Docker); a bring-your-own cluster's helper-pod shell goes through the kubelet
 * and the node's network, so it would cut itself off. Cases with such faults declare
 * `requires.nodeLifecycle` and are skipped where the provider has none; this is the backstop.
 */
import { nodeAccess, type NodeAccess, type NodeLifecycle } from "../core/nodes.ts";
import { InfraError } from "../core/errors.ts";

export class NodeLifecycleMissing extends InfraError {}

/** The node lifecycle, or a clear error saying what needed it. */
export function needsLifecycle(what: string, access: NodeAccess = nodeAccess()): NodeLifecycle {
  if (!access.lifecycle)
    throw new NodeLifecycleMissing(
      `${what} needs control of the nodes from outside the cluster (power, freeze, network, kubelet); ${access.description} offers only a shell through the kubelet`,
    );
  return access.lifecycle;
}
