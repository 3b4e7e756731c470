/**
 * Node faults, native to kind: nodes are containers on this Docker engine, so stopping a kubelet,
 * freezing or stopping a node and cutting it off the network need neither SSH nor a cloud API.
 */
import { exec } from "../core/exec.ts";
import { nodeLoopDevices } from "../drivers/loops.ts";
import { waitFor } from "../core/wait.ts";
import { injectFault, type Fault } from "./fault.ts";
import type { Timeline } from "./timeline.ts";

const docker = (args: string[], nothrow = false) =>
  exec("docker", args, { timeoutMs: 120_000, ...(nothrow ? { nothrow: true } : {}) });

async function kubeletActive(node: string): Promise<string> {
  return (await docker(["exec", node, "systemctl", "is-active", "kubelet"], true)).stdout.trim();
}

async function waitKubelet(node: string, want: "active" | "inactive"): Promise<void> {
  await waitFor(
    `kubelet on ${node} ${want}`,
    async () => {
      const s = await kubeletActive(node);
      return { done: s === want, seen: s || "unknown" };
    },
    { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
  );
}

export function stopKubelet(t: Timeline, node: string): Promise<Fault> {
  return injectFault(
    t,
    `kubelet stopped on ${node}`,
    async () => {
      await docker(["exec", node, "systemctl", "stop", "kubelet"]);
      await waitKubelet(node, "inactive");
    },
    async () => {
      await docker(["exec", node, "systemctl", "start", "kubelet"]);
      await waitKubelet(node, "active");
    },
  );
}

export async function restartKubelet(t: Timeline, node: string): Promise<void> {
  t.mark(`inject: kubelet restart on ${node}`);
  await docker(["exec", node, "systemctl", "restart", "kubelet"]);
  await waitKubelet(node, "active");
  t.mark(`kubelet active again on ${node}`);
}

export function pauseNode(t: Timeline, node: string): Promise<Fault> {
  return injectFault(
    t,
    `node ${node} paused (frozen)`,
    async () => void (await docker(["pause", node])),
    async () => {
      const state = (await docker(["inspect", "-f", "{{.State.Status}}", node])).stdout.trim();
      if (state === "paused") await docker(["unpause", node]);
    },
  );
}

/** The node's address on a Docker network (kind's is "kind"). */
export async function nodeAddress(node: string, network = "kind"): Promise<string> {
  const r = await docker([
    "inspect",
    "-f",
    `{{with index .NetworkSettings.Networks "${network}"}}{{.IPAddress}}{{end}}`,
    node,
  ]);
  return r.stdout.trim();
}

/**
 * Cuts the node off the network: every packet in or out of its kind-network interface is dropped
 * (a chain of our own in the node's iptables, jumped to first from INPUT, OUTPUT and FORWARD), as
 * if its cable were pulled. Healing deletes the chain; the address, routes and kube-proxy's rules
 * are never touched. (`docker network disconnect` was tried first: reconnecting with the same
 * address needs `--ip`, which Docker refuses on kind's network because its IPv4 subnet is not
 * user-configured, and a node whose address changes breaks its kubelet.)
 */
export async function partitionNode(t: Timeline, node: string, network = "kind"): Promise<Fault> {
  const ip = await nodeAddress(node, network);
  if (!ip) throw new Error(`node ${node} has no address on network ${network}`);
  const dev = (await docker(["exec", node, "ip", "-o", "-4", "addr", "show", "to", ip])).stdout.trim().split(/\s+/)[1];
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
    async () => void (await docker(["exec", node, "sh", "-ec", inject.join("\n")])),
    async () => void (await docker(["exec", node, "sh", "-ec", heal.join("\n")])),
  );
}

/** Stops the node container (systemd halts it); starting it again keeps its address. */
export async function stopNode(t: Timeline, node: string, network = "kind"): Promise<Fault> {
  const ip = await nodeAddress(node, network);
  if (!ip) throw new Error(`node ${node} has no address on network ${network}`);
  return injectFault(
    t,
    `node container ${node} (${ip}) stopped`,
    async () => {
      const loops = await nodeLoopDevices(node);
      await docker(["stop", "--time", "30", node]);
      // A powered-off machine loses its loop devices with its kernel; a kind node's outlive it.
      for (const dev of loops) await exec("losetup", ["--detach", dev], { nothrow: true });
      if (loops.length)
        t.mark(`detached ${node}'s loop devices as its kernel would have lost them: ${loops.join(", ")}`);
    },
    async () => {
      const state = (await docker(["inspect", "-f", "{{.State.Status}}", node])).stdout.trim();
      if (state === "running") return;
      await docker(["start", node]);
      const now = await nodeAddress(node, network);
      // Docker gives a restarted container its old address back when it is free; if it did not,
      // the kubelet (--node-ip) cannot work, and reconnecting with --ip is refused on kind's network.
      if (now !== ip)
        throw new Error(
          `node ${node} came back with address ${now}, not ${ip}; its kubelet is configured for ${ip}, so this cluster cannot be healed: delete it`,
        );
    },
  );
}
