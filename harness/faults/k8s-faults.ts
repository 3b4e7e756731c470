/** Faults through the Kubernetes API and the node's container runtime: killed pods, restarted controllers, taints. */
import { InfraError } from "../core/errors.ts";
import { nodeAccess, type NodeShell } from "../core/nodes.ts";
import { waitFor } from "../core/wait.ts";
import type { JsonPatchOp, Kube } from "../k8s/kube.ts";
import { addTaint } from "../k8s/taints.ts";
import { injectFault, type Fault } from "./fault.ts";
import { restoreFault } from "./restore.ts";
import type { Timeline } from "./timeline.ts";

/**
 * crictl with a longer deadline for each call to the runtime than its 2 s default: on a loaded
 * 2-core host containerd took longer than that to stop a container (NF-09 in a main job of
 * 2026-12-03: "StopContainer ... DeadlineExceeded" after 2.4 s, the fault not injected). The
 * node-side command is still bounded by the node shell's own timeout.
 */
const CRICTL = ["crictl", "--timeout", "30s"] as const;

/** Stops one container of a pod in the node's runtime (crictl); the kubelet restarts it. */
export async function killContainer(
  t: Timeline,
  node: string,
  pod: string,
  container: string,
  shell: NodeShell = nodeAccess().shell,
): Promise<void> {
  t.mark(`inject: kill container ${container} of ${pod} on ${node}`);
  const sandbox = await podSandbox(shell, node, pod);
  const id = (await shell.exec(node, [...CRICTL, "ps", "-q", "--pod", sandbox, "--name", `^${container}$`])).stdout
    .trim()
    .split("\n")[0];
  if (!id) throw new Error(`no running container ${container} of pod ${pod} on ${node}`);
  await shell.exec(node, [...CRICTL, "stop", "--timeout", "0", id]);
  t.mark(`killed container ${container} (${id.slice(0, 12)}) of ${pod}`);
}

async function podSandbox(shell: NodeShell, node: string, pod: string): Promise<string> {
  const id = (await shell.exec(node, [...CRICTL, "pods", "-q", "--name", `^${pod}$`, "--state", "ready"])).stdout
    .trim()
    .split("\n")[0];
  if (!id) throw new Error(`no ready sandbox for pod ${pod} on ${node}`);
  return id;
}

/** Restarts kube-controller-manager (a static pod): stop its container, wait for a new one to run. */
/** Restarts kube-controller-manager's static pod container on the node the API says it runs on. */
export async function restartControllerManager(
  t: Timeline,
  kube: Kube,
  shell: NodeShell = nodeAccess().shell,
): Promise<void> {
  const pods = await kube.list("Pod", { namespace: "kube-system", labelSelector: "component=kube-controller-manager" });
  const controlPlane = pods[0]?.spec?.nodeName;
  if (!controlPlane)
    throw new InfraError("no kube-controller-manager pod (component=kube-controller-manager) in kube-system");
  t.mark(`inject: kube-controller-manager restart on ${controlPlane}`);
  const running = [...CRICTL, "ps", "-q", "--name", "^kube-controller-manager$"];
  const before = (await shell.exec(controlPlane, running)).stdout.trim();
  if (!before) throw new Error(`kube-controller-manager is not running on ${controlPlane}`);
  await shell.exec(controlPlane, [...CRICTL, "stop", "--timeout", "0", before]);
  t.mark(`stopped kube-controller-manager container ${before.slice(0, 12)}`);
  await waitFor(
    "a new kube-controller-manager container running",
    async () => {
      const now = (await shell.exec(controlPlane, running, { nothrow: true })).stdout.trim();
      return { done: !!now && now !== before, seen: now ? `running ${now.slice(0, 12)}` : "none running" };
    },
    { timeoutMs: 120_000, intervalMs: 1000, blame: "infrastructure" },
  );
  t.mark("kube-controller-manager running again");
}

export const OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";

export function outOfServiceTaint(t: Timeline, kube: Kube, node: string): Promise<Fault> {
  const record = { kind: "fault", fault: "taint", node, key: OUT_OF_SERVICE } as const;
  return injectFault(
    t,
    `taint ${OUT_OF_SERVICE}=nodeshutdown:NoExecute on ${node}`,
    () => addTaint(kube, node, { key: OUT_OF_SERVICE, value: "nodeshutdown", effect: "NoExecute" }),
    () => restoreFault(record, { kube }),
    record,
  );
}

/** Cordons the node and evicts its pods (DaemonSet pods stay); healing uncordons it. */
export function drainNode(t: Timeline, kube: Kube, node: string): Promise<Fault> {
  return injectFault(
    t,
    `node ${node} drained`,
    async () =>
      void (await kube.kubectl(["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=180s"], {
        timeoutMs: 200_000,
      })),
    () => restoreFault({ kind: "fault", fault: "cordon", node }, { kube }),
    { kind: "fault", fault: "cordon", node },
  );
}

/**
 * Keeps a DaemonSet's pod off one node: a required node affinity excluding it is added to the pod
 * template (the DaemonSet deletes the pod there and does not recreate it). Healing restores the
 * template's original affinity. The change rolls the DaemonSet's pods on other nodes too.
 */
export async function keepDaemonSetOff(
  t: Timeline,
  kube: Kube,
  namespace: string,
  name: string,
  node: string,
): Promise<Fault> {
  const ds = await kube.read("DaemonSet", name, namespace);
  // As JSON (the model's Date fields and class instances are not what a patch sends).
  const original: unknown = JSON.parse(JSON.stringify(ds.spec?.template.spec?.affinity ?? null));
  const path = "/spec/template/spec/affinity";
  const exclude = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: [node] }] },
        ],
      },
    },
  };
  const patch = (ops: JsonPatchOp[]) => kube.jsonPatch("DaemonSet", name, namespace, ops);
  const record = { kind: "fault", fault: "daemonset-affinity", namespace, name, original } as const;
  return injectFault(
    t,
    `DaemonSet ${namespace}/${name} kept off ${node} (node affinity NotIn ${node})`,
    async () => void (await patch([{ op: "add", path, value: exclude }])),
    () => restoreFault(record, { kube }),
    record,
  );
}
