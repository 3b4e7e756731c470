/**
 * The Kubernetes API wrapper (the only file that imports @kubernetes/client-node) plus kubectl for
 * what the API client does awkwardly (exec into pods). Every call is bounded by a timeout.
 */
import * as k8s from "@kubernetes/client-node";
import { exec, type ExecResult } from "../core/exec.ts";

export type V1Pod = k8s.V1Pod;
export type V1Node = k8s.V1Node;
export type V1PersistentVolumeClaim = k8s.V1PersistentVolumeClaim;
export type CoreEvent = k8s.CoreV1Event;

export class Kube {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly storage: k8s.StorageV1Api;

  constructor(
    readonly kubeconfigPath: string,
    private readonly kubectlPath: string,
  ) {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.storage = kc.makeApiClient(k8s.StorageV1Api);
  }

  kubectl(
    args: readonly string[],
    opts: { timeoutMs?: number; input?: string; nothrow?: boolean } = {},
  ): Promise<ExecResult> {
    return exec(this.kubectlPath, ["--kubeconfig", this.kubeconfigPath, ...args], {
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.nothrow ? { nothrow: true } : {}),
    });
  }

  /** Runs a command in a pod's container and returns its stdout (throws with stderr on failure). */
  async execInPod(namespace: string, pod: string, command: readonly string[], container?: string): Promise<string> {
    const r = await this.kubectl([
      "exec",
      "-n",
      namespace,
      pod,
      ...(container ? ["-c", container] : []),
      "--",
      ...command,
    ]);
    return r.stdout;
  }
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** "phase Pending; Unschedulable: 0/3 nodes are available..." — what a wait reports on timeout. */
export function describePod(pod: V1Pod): string {
  const parts = [`phase ${pod.status?.phase ?? "unknown"}`];
  for (const c of pod.status?.conditions ?? [])
    if (c.status !== "True" && c.reason) parts.push(`${c.type}=${c.reason}: ${c.message ?? ""}`);
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w) parts.push(`${cs.name} waiting: ${w.reason ?? ""} ${w.message ?? ""}`.trim());
    const t = cs.state?.terminated;
    if (t) parts.push(`${cs.name} terminated: ${t.reason ?? ""} (exit ${t.exitCode})`);
  }
  return parts.join("; ");
}
