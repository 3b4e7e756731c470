/**
 * Node faults, native to kind: nodes are containers on this Docker engine, so stopping a kubelet,
 * freezing or stopping a node and cutting it off the network need neither SSH nor a cloud API.
 */
import { exec } from "../core/exec.ts";
import { nodeLoopDevices } from "../drivers/loops.ts";
import { waitFor } from "../core/wait.ts";
import { injectFault, type Fault } from "./fault.ts";
import type { Timeline } from "./timeline.ts";

const docker = (args: string[], nothrow = false) => exec("docker", args, { timeoutMs: 120_000, ...(nothrow ? { nothrow: true } : {}) });

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
    { timeoutMs: 60_000, intervalMs: 500 },
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
  const r = await docker(["inspect", "-f", `{{with index .NetworkSettings.Networks "${network}"}}{{.IPAddress}}{{end}}`, node]);
  return r.stdout.trim();
}

/** Cuts the node off the kind network; reconnects it with the same address (the kubelet and certificates expect it). */
export async function disconnectNode(t: Timeline, node: string, network = "kind"): Promise<Fault> {
  const ip = await nodeAddress(node, network);
  return injectFault(
    t,
    `node ${node} (${ip}) disconnected from network ${network}`,
    async () => void (await docker(["network", "disconnect", network, node])),
    async () => {
      if ((await nodeAddress(node, network).catch(() => "")) === ip) return;
      await docker(["network", "connect", "--ip", ip, network, node]);
    },
  );
}

/** Stops the node container (systemd halts it); starting it again keeps its address. */
export async function stopNode(t: Timeline, node: string, network = "kind"): Promise<Fault> {
  const ip = await nodeAddress(node, network);
  return injectFault(
    t,
    `node container ${node} (${ip}) stopped`,
    async () => {
      const loops = await nodeLoopDevices(node);
      await docker(["stop", "--time", "30", node]);
      // A powered-off machine loses its loop devices with its kernel; a kind node's outlive it.
      for (const dev of loops) await exec("losetup", ["--detach", dev], { nothrow: true });
      if (loops.length) t.mark(`detached ${node}'s loop devices as its kernel would have lost them: ${loops.join(", ")}`);
    },
    async () => {
      const state = (await docker(["inspect", "-f", "{{.State.Status}}", node])).stdout.trim();
      if (state === "running") return;
      await docker(["start", node]);
      const now = await nodeAddress(node, network);
      if (now !== ip) {
        await docker(["network", "disconnect", network, node]);
        await docker(["network", "connect", "--ip", ip, network, node]);
      }
    },
  );
}
