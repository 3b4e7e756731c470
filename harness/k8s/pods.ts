/**
 * Pod helpers shared by suites: the workload pod template and named, bounded waits on pod state.
 */
import { waitFor } from "../core/wait.ts";
import { gone, podReady } from "./conditions.ts";
import type { Kube, V1Pod } from "./kube.ts";

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

export async function waitForPodReady(kube: Kube, namespace: string, name: string, timeoutMs: number): Promise<V1Pod> {
  return waitFor(`pod ${namespace}/${name} Ready`, podReady(kube, namespace, name), {
    timeoutMs,
    intervalMs: 1000,
    blame: "driver",
  });
}

/** Deletes a pod and waits (named, bounded) until it is gone; on timeout says what state it is stuck in. */
export async function deletePodAndWait(kube: Kube, namespace: string, name: string, timeoutMs: number): Promise<void> {
  await kube.delete("Pod", name, namespace);
  await waitForPodGone(kube, namespace, name, timeoutMs);
}

/** Named, bounded wait until the pod is gone from the API (its kubelet confirmed the teardown). */
export async function waitForPodGone(kube: Kube, namespace: string, name: string, timeoutMs: number): Promise<void> {
  await waitFor(`pod ${namespace}/${name} gone after deletion`, gone(kube, "Pod", name, namespace), {
    timeoutMs,
    intervalMs: 1000,
    blame: "driver",
  });
}
