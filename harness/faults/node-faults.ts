/**
 * Node faults through the node seam (harness/core/nodes.ts): the kubelet stopped or restarted by
 * systemd in the node, the node frozen, powered off or cut off the network. Every one needs the
 * provider's lifecycle (kind: nodes are containers), because the shell must keep working while
 * the kubelet or the node's network is down; see harness/nodes/lifecycle.ts.
 */
import { unstoppable } from "../core/abort.ts";
import { nodeAccess, type NodeAccess } from "../core/nodes.ts";
import { kubeletAction, waitKubelet } from "../nodes/kubelet.ts";
import { needsLifecycle } from "../nodes/lifecycle.ts";
import { injectFault, type Fault } from "./fault.ts";
import { partitionInjectScript, restoreFault } from "./restore.ts";
import type { Timeline } from "./timeline.ts";

export async function stopKubelet(t: Timeline, node: string, access: NodeAccess = nodeAccess()): Promise<Fault> {
  needsLifecycle(`stopping the kubelet on ${node}`, access);
  const { shell } = access;
  return injectFault(
    t,
    `kubelet stopped on ${node}`,
    async () => {
      await kubeletAction(shell, node, "stop");
      await waitKubelet(shell, node, "inactive");
    },
    () => restoreFault({ kind: "fault", fault: "kubelet-stopped", node }, { access }),
    { kind: "fault", fault: "kubelet-stopped", node },
  );
}

export async function restartKubelet(t: Timeline, node: string, access: NodeAccess = nodeAccess()): Promise<void> {
  needsLifecycle(`restarting the kubelet on ${node}`, access);
  t.mark(`inject: kubelet restart on ${node}`);
  await kubeletAction(access.shell, node, "restart");
  await waitKubelet(access.shell, node, "active");
  t.mark(`kubelet active again on ${node}`);
}

export async function pauseNode(t: Timeline, node: string, access: NodeAccess = nodeAccess()): Promise<Fault> {
  const lifecycle = needsLifecycle(`freezing node ${node}`, access);
  return injectFault(
    t,
    `node ${node} paused (frozen)`,
    () => lifecycle.pause(node),
    () => restoreFault({ kind: "fault", fault: "node-paused", node }, { access }),
    { kind: "fault", fault: "node-paused", node },
  );
}

/**
 * Cuts the node off the network: every packet in or out of the interface holding its address is dropped
 * (a chain of our own in the node's iptables, jumped to first from INPUT, OUTPUT and FORWARD), as
 * if its cable were pulled. Healing deletes the chain; the address, routes and kube-proxy's rules
 * are never touched. (`docker network disconnect` was tried first: reconnecting with the same
 * address needs `--ip`, which Docker refuses on kind's network because its IPv4 subnet is not
 * user-configured, and a node whose address changes breaks its kubelet.)
 */
export async function partitionNode(t: Timeline, node: string, access: NodeAccess = nodeAccess()): Promise<Fault> {
  const ip = await needsLifecycle(`cutting node ${node} off the network`, access).address(node);
  const { shell } = access;
  const dev = (await shell.exec(node, ["ip", "-o", "-4", "addr", "show", "to", ip])).stdout.trim().split(/\s+/)[1];
  if (!dev) throw new Error(`no interface with address ${ip} in node ${node}`);
  return injectFault(
    t,
    `node ${node} (${ip}, ${dev}) cut off the network (all packets dropped)`,
    async () => void (await shell.exec(node, ["sh", "-ec", partitionInjectScript(dev)])),
    () => restoreFault({ kind: "fault", fault: "partition", node, device: dev }, { access }),
    { kind: "fault", fault: "partition", node, device: dev },
  );
}

/**
 * Powers the node off (10 s to shut down, then killed: a node that is lost, not one drained
 * politely; the data a pod wrote is in the host's page cache either way); powering it on again
 * must keep its address.
 */
export async function stopNode(t: Timeline, node: string, access: NodeAccess = nodeAccess()): Promise<Fault> {
  const lifecycle = needsLifecycle(`powering node ${node} off`, access);
  const ip = await lifecycle.address(node);
  const record = { kind: "fault", fault: "node-stopped", node, address: ip } as const;
  return injectFault(
    t,
    `node ${node} (${ip}) powered off`,
    // Not stoppable: Docker finishes a `docker stop` whose client was killed, so a Ctrl-C here
    // would let the heal find the node still running, do nothing, and the node go down after it.
    () => unstoppable(() => lifecycle.stop(node, 10)),
    () => restoreFault(record, { access }),
    record,
  );
}
