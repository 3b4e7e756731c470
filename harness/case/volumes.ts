/** Volume helpers for cases: static volumes named after the case, pods that mount claims. */
import { HarnessBug } from "../core/errors.ts";
import { createStaticVolume, type StaticVolume, type StaticVolumeSpec } from "../drivers/intree.ts";
import type { V1Pod } from "../k8s/kube.ts";
import type { CaseContext } from "./types.ts";
import { claimSize } from "./sizes.ts";

import { runContext } from "./run-context.ts";

/** The image of volcert's own workload pods (built with the node image). */
export const workloadImage = (): string => runContext().images.workload;

/** The size in bytes of the filesystem a pod sees at `path` (df, as the pod's processes see it). */
export async function podFsBytes(c: CaseContext, pod: string, path = "/data"): Promise<number> {
  return Number((await c.kube.execInPod(c.ns, pod, ["df", "-B1", "--output=size", path])).trim().split("\n").pop());
}

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
      capacity: claimSize(c.driver),
      storageClassName: c.ns,
      labels: { "volcert.io/case": c.ns },
      ...spec,
    }),
  );
}

type PodSpec = NonNullable<V1Pod["spec"]>;
type Container = PodSpec["containers"][number];

/** A long-running pod of the workload image using `claim` as volume "vol", attached by `use`. */
function claimPod(
  name: string,
  claim: string,
  use: Pick<Container, "volumeMounts" | "volumeDevices">,
  spec: Partial<PodSpec> = {},
  readOnly = false,
): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...spec,
      containers: [
        {
          name: "workload",
          image: workloadImage(),
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "infinity"],
          ...use,
        },
      ],
      volumes: [{ name: "vol", persistentVolumeClaim: { claimName: claim, ...(readOnly ? { readOnly: true } : {}) } }],
    },
  };
}

/** A workload pod that gets `claim` (volumeMode Block) as a raw device at /dev/xvda. */
export function blockPodWithClaim(
  name: string,
  claim: string,
  opts: { nodeSelector?: Record<string, string> } = {},
): V1Pod {
  return claimPod(name, claim, { volumeDevices: [{ name: "vol", devicePath: "/dev/xvda" }] }, opts);
}

/** A workload pod that mounts `claim` at /data (read-only when asked, in the pod and in the claim source). */
export function podWithClaim(
  name: string,
  claim: string,
  opts: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    readOnly?: boolean;
    affinity?: PodSpec["affinity"];
  } = {},
): V1Pod {
  const { readOnly, ...spec } = opts;
  const mount = { name: "vol", mountPath: "/data", ...(readOnly ? { readOnly: true } : {}) };
  return claimPod(name, claim, { volumeMounts: [mount] }, spec, !!readOnly);
}
