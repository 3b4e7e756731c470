/**
 * The node seam: how volcert reaches a node's shell and, where the cluster provider can, its
 * power and network. kind implements both with Docker (`clusters/kind/`); an existing cluster
 * offers only the shell, through a privileged helper pod and nsenter (`clusters/kubeconfig/`).
 * Node helpers (`harness/nodes/`) and faults use these interfaces and never know which provider
 * is behind them; a fault that needs lifecycle declares it and is skipped, with the reason, where
 * the provider lacks it.
 */
import type { ExecResult } from "./exec.ts";
import { HarnessBug } from "./errors.ts";

export interface NodeExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  nothrow?: boolean;
  signal?: AbortSignal;
}

/** A shell on every node of the cluster (as root, in the node's mount, PID and network namespaces). */
export interface NodeShell {
  /** Kubernetes node names, sorted. */
  nodes(): Promise<string[]>;
  /** Runs argv on the node. A failure is a CommandError (infrastructure) unless `nothrow`. */
  exec(node: string, argv: readonly string[], opts?: NodeExecOptions): Promise<ExecResult>;
  /**
   * The command line a person pastes to run `command` (shell words) on the node, for repro
   * instructions: `docker exec <node> ...` on kind, `kubectl exec` into the helper pod elsewhere.
   */
  commandLine(node: string, command: string, opts?: { interactive?: boolean }): string;
}

export type NodePowerState = "running" | "paused" | "stopped" | "unknown";

/** Power and network of a node, where the provider controls them (kind: nodes are containers). */
export interface NodeLifecycle {
  state(node: string): Promise<NodePowerState>;
  /** Powers the node off (graceful for `graceSeconds`, then killed). */
  stop(node: string, graceSeconds: number): Promise<void>;
  start(node: string): Promise<void>;
  /** Freezes every process of the node. */
  pause(node: string): Promise<void>;
  unpause(node: string): Promise<void>;
  /** The node's address on the cluster network. */
  address(node: string): Promise<string>;
}

/** How long a command may run in a node when the caller does not say. */
export const NODE_EXEC_TIMEOUT_MS = 120_000;

/**
 * argv wrapped in coreutils `timeout`, run inside the node: killing the host-side client (`docker
 * exec`, `kubectl exec`) at its timeout does not kill the process it started in the node, so the
 * node bounds it itself, a little before the host gives up (TERM, then KILL after a grace). `timeout`
 * runs the command in its own process group and signals the whole group, so a script's children go
 * too. Only for commands volcert runs; the command lines shown to people are left alone.
 */
export function inNodeTimeout(argv: readonly string[], hostTimeoutMs: number): string[] {
  const marginMs = Math.min(10_000, hostTimeoutMs / 2);
  const seconds = Math.max(1, Math.floor((hostTimeoutMs - marginMs) / 1000));
  const killAfter = Math.max(1, Math.min(5, Math.floor(marginMs / 2000)));
  return ["timeout", `--kill-after=${killAfter}s`, `${seconds}s`, ...argv];
}

export interface NodeAccess {
  shell: NodeShell;
  lifecycle?: NodeLifecycle;
  /** What is behind it, for messages ("kind cluster volcert-test-ab12"). */
  description: string;
}

let registered: NodeAccess | undefined;

/** Called once per process by whoever knows the cluster provider (the CLI, or the worker setup file). */
export function registerNodeAccess(access: NodeAccess): void {
  registered = access;
}

export function nodeAccess(): NodeAccess {
  if (!registered) {
    throw new HarnessBug("node access used before a cluster provider registered it (see clusters/worker-setup.ts)");
  }
  return registered;
}
