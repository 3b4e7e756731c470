/**
 * Pod helpers shared by suites: the workload pod template and named, bounded waits on pod state.
 */
import { waitFor } from "../core/wait.ts";
import { describePod, isPodReady, type Kube, type V1Pod } from "./kube.ts";

export interface WorkloadPodSpec {
  name: string;
  namespace: string;
  image: string;
  nodeName?: string;
  volumes?: NonNullable<V1Pod["spec"]>["volumes"];
  volumeMounts?: NonNullable<NonNullable<V1Pod["spec"]>["containers"][number]["volumeMounts"]>;
  labels?: Record<string, string>;
}

/** A long-running pod of the test workload image; tests exec their checks into it. */
export function workloadPod(spec: WorkloadPodSpec): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { "app.kubernetes.io/managed-by": "volcert", ...spec.labels },
    },
    spec: {
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "workload",
          image: spec.image,
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "infinity"],
          ...(spec.volumeMounts ? { volumeMounts: spec.volumeMounts } : {}),
        },
      ],
      ...(spec.volumes ? { volumes: spec.volumes } : {}),
    },
  };
}

export async function waitForPodReady(
  kube: Kube,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<V1Pod> {
  return waitFor(
    `pod ${namespace}/${name} Ready`,
    async () => {
      const pod = await kube.core.readNamespacedPod({ namespace, name });
      return { done: isPodReady(pod), value: pod, seen: describePod(pod) };
    },
    { timeoutMs, intervalMs: 1000, blame: "driver" },
  );
}

/** Deletes a pod and waits (named, bounded) until it is gone; on timeout says what state it is stuck in. */
export async function deletePodAndWait(
  kube: Kube,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<void> {
  await kube.kubectl(["delete", "pod", "-n", namespace, name, "--wait=false"]);
  await waitFor(
    `pod ${namespace}/${name} gone after deletion`,
    async () => {
      try {
        const pod = await kube.core.readNamespacedPod({ namespace, name });
        return {
          done: false,
          seen: `still there (Terminating since ${String(pod.metadata?.deletionTimestamp ?? "?")}); ${describePod(pod)}`,
        };
      } catch {
        return { done: true, seen: "gone" };
      }
    },
    { timeoutMs, intervalMs: 1000, blame: "driver" },
  );
}
