/** Volume helpers for cases: static volumes named after the case, pods that mount claims. */
import { HarnessBug } from "../core/errors.ts";
import { createStaticVolume, type StaticVolume, type StaticVolumeSpec } from "../drivers/intree.ts";
import type { V1Pod } from "../k8s/kube.ts";
import type { CaseContext } from "./types.ts";

import { runContext } from "./run-context.ts";

/** The image of volcert's own workload pods (built with the node image). */
export const workloadImage = (): string => runContext().images.workload;

/** A static volume owned by the case: named `<namespace>-<suffix>`, class `<namespace>` unless given. */
export async function staticVolume(
  c: CaseContext,
  suffix: string,
  spec: Partial<StaticVolumeSpec> & { node: string },
): Promise<StaticVolume> {
  if (!c.driver) throw new HarnessBug("static volumes need a driver");
  return c.defer(
    await createStaticVolume(c.kube, c.nodes, c.driver, {
      name: `${c.ns}-${suffix}`,
      capacity: "1Gi",
      storageClassName: c.ns,
      labels: { "volcert.io/case": c.ns },
      ...spec,
    }),
  );
}

/** A workload pod that gets `claim` (volumeMode Block) as a raw device at /dev/xvda. */
export function blockPodWithClaim(
  name: string,
  claim: string,
  opts: { nodeSelector?: Record<string, string> } = {},
): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
      containers: [
        {
          name: "workload",
          image: workloadImage(),
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "infinity"],
          volumeDevices: [{ name: "vol", devicePath: "/dev/xvda" }],
        },
      ],
      volumes: [{ name: "vol", persistentVolumeClaim: { claimName: claim } }],
    },
  };
}

export function podWithClaim(
  name: string,
  claim: string,
  opts: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    readOnly?: boolean;
    affinity?: NonNullable<V1Pod["spec"]>["affinity"];
  } = {},
): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
      ...(opts.affinity ? { affinity: opts.affinity } : {}),
      containers: [
        {
          name: "workload",
          image: workloadImage(),
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "infinity"],
          volumeMounts: [{ name: "vol", mountPath: "/data", ...(opts.readOnly ? { readOnly: true } : {}) }],
        },
      ],
      volumes: [
        { name: "vol", persistentVolumeClaim: { claimName: claim, ...(opts.readOnly ? { readOnly: true } : {}) } },
      ],
    },
  };
}
