/**
 * Node faults through the node seam (harness/core/nodes.ts): the kubelet stopped or restarted by
 * systemd in the node, the node frozen, powered off or cut off the network. Every one needs the
 * provider's lifecycle (kind: nodes are containers), because the shell must keep working while
 * the kubelet or the node's network is down; see harness/nodes/lifecycle.ts.
 */
import { nodeAccess, type NodeAccess } from "../core/nodes.ts";
import { kubeletAction, waitKubelet } from "../nodes/kubelet.ts";
import { needsLifecycle } from "../nodes/lifecycle.ts";
import { injectFault, type Fault } from "./fault.ts";
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
    async () => {
      await kubeletAction(shell, node, "start");
      await waitKubelet(shell, node, "active");
    },
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
    async () => {
      if ((await lifecycle.state(node)) === "paused") await lifecycle.unpause(node);
    },
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
  const jumps = [`INPUT -i ${dev}`, `FORWARD -i ${dev}`, `OUTPUT -o ${dev}`, `FORWARD -o ${dev}`];
  const ipt = "iptables -w 10";
  const inject = [
    `${ipt} -N VOLCERT-PARTITION 2>/dev/null || ${ipt} -F VOLCERT-PARTITION`,
    `${ipt} -A VOLCERT-PARTITION -j DROP`,
    ...jumps.map(
      (j) =>
        `${ipt} -C ${j} -j VOLCERT-PARTITION 2>/dev/null || ${ipt} -I ${j.replace(" ", " 1 ")} -j VOLCERT-PARTITION`,
    ),
  ];
  // Deletes every jump and the chain, then proves it: a heal that did not take must fail, not pass.
  const heal = [
    ...jumps.map(
      (j) => `while ${ipt} -C ${j} -j VOLCERT-PARTITION 2>/dev/null; do ${ipt} -D ${j} -j VOLCERT-PARTITION; done`,
    ),
    `if ${ipt} -S VOLCERT-PARTITION >/dev/null 2>&1; then ${ipt} -F VOLCERT-PARTITION && ${ipt} -X VOLCERT-PARTITION; fi`,
    `! ${ipt} -S VOLCERT-PARTITION >/dev/null 2>&1`,
  ];
  return injectFault(
    t,
    `node ${node} (${ip}, ${dev}) cut off the network (all packets dropped)`,
    async () => void (await shell.exec(node, ["sh", "-ec", inject.join("\n")])),
    async () => void (await shell.exec(node, ["sh", "-ec", heal.join("\n")])),
  );
}

/** Powers the node off (30 s to shut down, then killed); powering it on again must keep its address. */
export async function stopNode(t: Timeline, node: string, access: NodeAccess = nodeAccess()): Promise<Fault> {
  const lifecycle = needsLifecycle(`powering node ${node} off`, access);
  const ip = await lifecycle.address(node);
  return injectFault(
    t,
    `node ${node} (${ip}) powered off`,
    () => lifecycle.stop(node, 30),
    async () => {
      if ((await lifecycle.state(node)) === "running") return;
      await lifecycle.start(node);
      const now = await lifecycle.address(node);
      // The kubelet is configured for its address (--node-ip): a node that comes back with another
      // one cannot work (kind: Docker gives the old address back only when it is still free).
      if (now !== ip)
        throw new Error(
          `node ${node} came back with address ${now}, not ${ip}; its kubelet is configured for ${ip}, so this cluster cannot be healed: delete it`,
        );
    },
  );
}
