/**
 * Node access for kind: a node is a container on this Docker engine, so its shell is `docker exec`
 * and its power and network are the container's (stop/start, pause/unpause, its address on the
 * cluster's own Docker network: clusterNetwork). A stopped node's loop devices are detached on the host: they belong to the host
 * kernel and would outlive the container, where a real machine loses them with its kernel.
 */
import { HarnessBug, InfraError } from "../../harness/core/errors.ts";
import { effectiveSignal } from "../../harness/core/abort.ts";
import { CommandError, commandLine, exec } from "../../harness/core/exec.ts";
import { NodeSessions } from "./node-sessions.ts";
import { Verdict, waitFor } from "../../harness/core/wait.ts";
import {
  inNodeTimeout,
  NODE_EXEC_TIMEOUT_MS,
  type NodeAccess,
  type NodeExecOptions,
  type NodeLifecycle,
  type NodePowerState,
  type NodeShell,
} from "../../harness/core/nodes.ts";

/** kind's shared network: clusters created before volcert gave each cluster its own are on it. */
export const KIND_NETWORK = "kind";

/**
 * Each volcert cluster gets a Docker network of its own (kind's KIND_EXPERIMENTAL_DOCKER_NETWORK):
 * a powered-off node gets its address back only while nobody else took it, and on kind's shared
 * network another cluster's new node could (two runs at once on one engine).
 */
export function clusterNetwork(clusterName: string): string {
  return `${clusterName}-net`;
}
export const CLUSTER_LABEL = "io.x-k8s.kind.cluster";

/** `docker pause` failed because runc could not freeze the node this time (worth another try). */
export function freezeRefused(stderr: string): boolean {
  return /OCI runtime pause failed: unable to freeze/.test(stderr);
}

/** How long a node that will not freeze is retried before that is the infrastructure's failure. */
const PAUSE_RETRY_MS = 30_000;

const docker = (args: readonly string[], opts: { nothrow?: boolean; timeoutMs?: number } = {}) =>
  exec("docker", args, { timeoutMs: 120_000, ...opts });

export function kindNodeAccess(clusterName: string): NodeAccess {
  const sessions = new NodeSessions();
  const shell = kindNodeShell(clusterName, sessions);
  return {
    shell,
    lifecycle: kindNodeLifecycle(shell, clusterName, sessions),
    description: `kind cluster ${clusterName}`,
  };
}

/**
 * `sessions`: long-lived shells to send commands through (node-sessions.ts); without them every
 * command is a `docker exec` of its own.
 */
export function kindNodeShell(clusterName: string, sessions?: NodeSessions): NodeShell {
  // A kind cluster's nodes are fixed at creation (a powered-off node is still listed): asked once.
  let known: string[] | undefined;
  return {
    async nodes() {
      if (known) return [...known];
      const names = nodeNames(
        (await docker(["ps", "--all", "--filter", `label=${CLUSTER_LABEL}=${clusterName}`, "--format", "{{.Names}}"]))
          .stdout,
      );
      if (names.length > 0) known = names;
      return [...names];
    },
    async exec(node, argv, opts = {}) {
      // Guards against running a command in some other container of this engine.
      if (!node.startsWith(`${clusterName}-`))
        throw new HarnessBug(`${node} is not a node of kind cluster ${clusterName}`);
      const timeoutMs = opts.timeoutMs ?? NODE_EXEC_TIMEOUT_MS;
      const args = dockerExecArgs(node, argv, opts.input !== undefined, timeoutMs);
      const pooled = await sessions?.run(node, inNodeTimeout(argv, timeoutMs), {
        timeoutMs,
        display: commandLine("docker", args),
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        ...(effectiveSignal(opts.signal) ? { signal: effectiveSignal(opts.signal) } : {}),
      });
      if (!pooled) return await exec("docker", args, execOptions(opts));
      if (!pooled.ok && !opts.nothrow) throw new CommandError(pooled);
      return pooled;
    },
    commandLine(node, command, opts = {}) {
      return `docker exec${opts.interactive ? " -it" : ""} ${node} ${command}`;
    },
  };
}

/**
 * `docker exec [-i] <node> timeout ... argv...`: stdin is attached only when there is input to
 * send; the node itself ends the command before the host's timeout kills `docker exec`.
 */
export function dockerExecArgs(node: string, argv: readonly string[], withInput: boolean, timeoutMs: number): string[] {
  return ["exec", ...(withInput ? ["-i"] : []), node, ...inNodeTimeout(argv, timeoutMs)];
}

function execOptions(opts: NodeExecOptions) {
  return {
    timeoutMs: opts.timeoutMs ?? NODE_EXEC_TIMEOUT_MS,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.nothrow ? { nothrow: true } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}

export function kindNodeLifecycle(shell: NodeShell, clusterName: string, sessions?: NodeSessions): NodeLifecycle {
  return {
    async state(node) {
      return (await inspectNode(node)).state;
    },
    async stop(node, graceSeconds) {
      const loops = await nodeLoopDevices(shell, node);
      sessions?.forget(node);
      await docker(["stop", "--time", String(graceSeconds), node], { timeoutMs: (graceSeconds + 90) * 1000 });
      for (const dev of loops) await exec("losetup", ["--detach", dev], { nothrow: true, timeoutMs: 30_000 });
    },
    async start(node) {
      await docker(["start", node]);
    },
    async pause(node) {
      // runc on cgroup v1 gives up when a task of the node stays in uninterruptible sleep (I/O on a
      // loop device, say) through its freezer poll: "unable to freeze", the node thawed again. Seen
      // once in NF-06 on csi-netstore (main job of 2026-12-03); a later try freezes it.
      sessions?.forget(node);
      await waitFor(
        `node ${node} frozen (docker pause)`,
        async () => {
          const r = await docker(["pause", node], { nothrow: true });
          // Again once frozen: a session opened while the pause was retried would now hang.
          if (r.ok) sessions?.forget(node);
          if (r.ok) return { done: true, seen: "paused" };
          const why = r.stderr.trim();
          if (!freezeRefused(why)) throw new Verdict(new InfraError(`docker pause ${node}: ${why}`));
          return { done: false, seen: why };
        },
        { timeoutMs: PAUSE_RETRY_MS, intervalMs: 2000, blame: "infrastructure" },
      );
    },
    async unpause(node) {
      await docker(["unpause", node]);
    },
    async address(node) {
      const { addresses } = await inspectNode(node);
      const ip = addresses[clusterNetwork(clusterName)] ?? addresses[KIND_NETWORK];
      if (!ip)
        throw new InfraError(
          `node ${node} has no address on Docker network ${clusterNetwork(clusterName)} or ${KIND_NETWORK}`,
        );
      return ip;
    },
  };
}

export interface NodeInspection {
  state: NodePowerState;
  /** Address per Docker network. */
  addresses: Record<string, string>;
}

async function inspectNode(node: string): Promise<NodeInspection> {
  return parseDockerInspect((await docker(["inspect", "--type", "container", node])).stdout);
}

interface DockerInspectView {
  State?: { Status?: string };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** `docker inspect --type container <node>` (a JSON array of one). */
export function parseDockerInspect(json: string): NodeInspection {
  const [c] = JSON.parse(json) as DockerInspectView[];
  if (!c) throw new InfraError("docker inspect returned no container");
  const addresses: Record<string, string> = {};
  for (const [net, n] of Object.entries(c.NetworkSettings?.Networks ?? {}))
    if (n.IPAddress) addresses[net] = n.IPAddress;
  return { state: powerState(c.State?.Status), addresses };
}

/** Docker's container states as a machine's power states. */
export function powerState(status: string | undefined): NodePowerState {
  switch (status) {
    case "running":
      return "running";
    case "paused":
      return "paused";
    case "exited":
    case "created":
    case "dead":
      return "stopped";
    default:
      return "unknown";
  }
}

/**
 * Loop devices whose backing file lives in this node's filesystem (same inode and device as the
 * file seen from inside the node): the ones a power-off must detach.
 */
export async function nodeLoopDevices(shell: NodeShell, node: string): Promise<string[]> {
  const script = `losetup --list --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN,BACK-FILE | while read -r dev ino majmin file; do
  f=\${file% (deleted)}; [ -e "$f" ] || continue
  [ "$(stat -c '%i %Hd:%Ld' "$f")" = "$ino $majmin" ] && echo "$dev"
done; true`;
  const r = await shell.exec(node, ["sh", "-c", script], { nothrow: true, timeoutMs: 30_000 });
  return lines(r.stdout).filter((l) => l.startsWith("/dev/loop"));
}

/** `docker ps --format {{.Names}}` output: the node names, sorted. */
export function nodeNames(psOutput: string): string[] {
  return lines(psOutput).sort();
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}
