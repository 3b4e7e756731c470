/**
 * Node shell for a bring-your-own cluster: no Docker, no SSH, so one privileged helper pod per node
 * (host PID and network namespaces) enters the host's namespaces with nsenter and runs the command
 * there, through `kubectl exec`. Pods are created on first use, in a namespace of their own that
 * dispose() deletes. No lifecycle: this shell goes through the kubelet and the node's network, so
 * faults that stop either would cut it off.
 */
import { createHash } from "node:crypto";
import { exec } from "../../harness/core/exec.ts";
import {
  inNodeTimeout,
  NODE_EXEC_TIMEOUT_MS,
  type NodeAccess,
  type NodeExecOptions,
  type NodeShell,
} from "../../harness/core/nodes.ts";
import { waitFor } from "../../harness/core/wait.ts";

export const NODE_SHELL_NAMESPACE = "volcert-node-shell";
const CONTAINER = "shell";
/** Into PID 1's mount, UTS, IPC, network and PID namespaces: the host as root sees it. */
export const NSENTER = ["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--"] as const;

export interface HelperPodNodeAccess extends NodeAccess, AsyncDisposable {
  /** Deletes the helper pods' namespace (without waiting for it to go). */
  dispose(): Promise<void>;
}

export function helperPodNodeAccess(
  kubeconfig: string,
  kubectl: string,
  opts: { image: string; readyTimeoutMs?: number },
): HelperPodNodeAccess {
  const k = (args: readonly string[], o: { input?: string; nothrow?: boolean; timeoutMs?: number } = {}) =>
    exec(kubectl, ["--kubeconfig", kubeconfig, ...args], { timeoutMs: 120_000, ...o });
  const pods = new Map<string, Promise<string>>();
  let namespace: Promise<void> | undefined;

  // A namespace still terminating (an earlier run's cleanup) refuses pods, and a new one refuses
  // them until its default service account exists.
  const ensureNamespace = (): Promise<void> =>
    (namespace ??= waitFor<void>(
      `namespace ${NODE_SHELL_NAMESPACE} ready for node shell pods`,
      async () => {
        const ns = await k(["get", "namespace", NODE_SHELL_NAMESPACE, "-o", "jsonpath={.status.phase}"], {
          nothrow: true,
        });
        if (!ns.ok) {
          await k(["apply", "-f", "-"], { input: JSON.stringify(helperNamespaceManifest()) });
          return { done: false, seen: "namespace created" };
        }
        if (ns.stdout !== "Active") return { done: false, seen: `namespace ${ns.stdout}` };
        const sa = await k(["get", "serviceaccount", "-n", NODE_SHELL_NAMESPACE, "default", "-o", "name"], {
          nothrow: true,
        });
        return { done: sa.ok, seen: sa.ok ? "ready" : "no default service account yet" };
      },
      { timeoutMs: 120_000, intervalMs: 1000, blame: "infrastructure" },
    ).catch((err: unknown) => {
      namespace = undefined;
      throw err;
    }));

  const podFor = (node: string): Promise<string> => {
    let pod = pods.get(node);
    if (!pod) {
      pod = startHelperPod(node).catch((err: unknown) => {
        pods.delete(node); // the next use tries again
        throw err;
      });
      pods.set(node, pod);
    }
    return pod;
  };

  const startHelperPod = async (node: string): Promise<string> => {
    const name = helperPodName(node);
    await ensureNamespace();
    await k(["apply", "-f", "-"], { input: JSON.stringify(helperPodManifest(node, opts.image)) });
    await waitFor(
      `node shell pod ${NODE_SHELL_NAMESPACE}/${name} ready on ${node}`,
      async () => {
        const r = await k(["get", "pod", "-n", NODE_SHELL_NAMESPACE, name, "-o", "json"], { nothrow: true });
        if (!r.ok) return { done: false, seen: r.stderr.trim() };
        return podReadiness(JSON.parse(r.stdout) as PodStatusView);
      },
      { timeoutMs: opts.readyTimeoutMs ?? 180_000, intervalMs: 1000, blame: "infrastructure" },
    );
    return name;
  };

  const shell: NodeShell = {
    async nodes() {
      const r = await k(["get", "nodes", "-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}']);
      return r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .sort();
    },
    async exec(node, argv, o: NodeExecOptions = {}) {
      const pod = await podFor(node);
      const timeoutMs = o.timeoutMs ?? NODE_EXEC_TIMEOUT_MS;
      return exec(kubectl, helperExecArgs(kubeconfig, pod, argv, o.input !== undefined, timeoutMs), {
        timeoutMs,
        ...(o.input !== undefined ? { input: o.input } : {}),
        ...(o.nothrow ? { nothrow: true } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    },
    commandLine(node, command, opts = {}) {
      const it = opts.interactive ? " -it" : "";
      return `${kubectl} --kubeconfig ${kubeconfig} exec${it} -n ${NODE_SHELL_NAMESPACE} ${helperPodName(node)} -c ${CONTAINER} -- ${NSENTER.join(" ")} ${command}`;
    },
  };

  const dispose = async () => {
    pods.clear();
    namespace = undefined;
    await removeHelperPods(kubeconfig, kubectl);
  };
  return {
    shell,
    description: `cluster of kubeconfig ${kubeconfig} (node shell through helper pods in ${NODE_SHELL_NAMESPACE})`,
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/** Deletes every helper pod (their namespace); safe when there is none. */
export async function removeHelperPods(kubeconfig: string, kubectl: string): Promise<void> {
  await exec(
    kubectl,
    ["--kubeconfig", kubeconfig, "delete", "namespace", NODE_SHELL_NAMESPACE, "--ignore-not-found", "--wait=false"],
    { timeoutMs: 120_000 },
  );
}

/**
 * `kubectl exec [-i] <pod> -- timeout ... nsenter ... -- argv`: stdin is attached only when there
 * is input. `timeout` is the helper image's (ours, Debian coreutils), not the host's, and it
 * signals nsenter's whole process group, the command included.
 */
export function helperExecArgs(
  kubeconfig: string,
  pod: string,
  argv: readonly string[],
  withInput: boolean,
  timeoutMs: number,
): string[] {
  return [
    "--kubeconfig",
    kubeconfig,
    "exec",
    ...(withInput ? ["-i"] : []),
    "-n",
    NODE_SHELL_NAMESPACE,
    pod,
    "-c",
    CONTAINER,
    "--",
    ...inNodeTimeout([...NSENTER, ...argv], timeoutMs),
  ];
}

/** Node names are DNS subdomains like pod names; one too long for the prefix gets a hash instead. */
export function helperPodName(node: string): string {
  const name = `node-shell-${node}`;
  return name.length <= 253 ? name : `node-shell-${createHash("sha256").update(node).digest("hex").slice(0, 16)}`;
}

export function helperNamespaceManifest(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: NODE_SHELL_NAMESPACE,
      labels: {
        "app.kubernetes.io/managed-by": "volcert",
        // The helper pods are privileged by design; Pod Security admission must let them in.
        "pod-security.kubernetes.io/enforce": "privileged",
      },
    },
  };
}

export function helperPodManifest(node: string, image: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: helperPodName(node),
      namespace: NODE_SHELL_NAMESPACE,
      labels: { "app.kubernetes.io/managed-by": "volcert", "app.kubernetes.io/component": "node-shell" },
    },
    spec: {
      nodeName: node,
      hostPID: true,
      hostNetwork: true,
      tolerations: [{ operator: "Exists" }],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: CONTAINER,
          image,
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "infinity"],
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

interface PodStatusView {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

function podReadiness(p: PodStatusView): { done: boolean; seen: string } {
  const ready = p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
  return {
    done: ready,
    seen: `phase ${p.status?.phase ?? "unknown"}${waiting ? `, waiting: ${waiting.reason ?? ""} ${waiting.message ?? ""}`.trimEnd() : ""}`,
  };
}
