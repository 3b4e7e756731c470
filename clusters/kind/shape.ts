/**
 * Cluster shapes as data, and their translation into a kind `Cluster` config (v1alpha4).
 * A shape is validated before anything is created; the config is plain YAML that can be read
 * in a report or re-used with the kind CLI by hand.
 */
import { stringify } from "yaml";
import { z } from "zod";
import { ConfigError } from "../../harness/core/errors.ts";
import { SHARED_STORAGE_NODE_PATH, sharedStorageDir } from "./state.ts";

/** Every cluster volcert creates is named with this prefix, which is how leftovers are found. */
export const CLUSTER_PREFIX = "volcert-";

const MountSchema = z
  .object({
    hostPath: z.string().startsWith("/", "must be an absolute path"),
    containerPath: z.string().startsWith("/", "must be an absolute path"),
    readOnly: z.boolean().default(false),
    propagation: z.enum(["None", "HostToContainer", "Bidirectional"]).default("None"),
  })
  .strict();

/**
 * How fast the control plane notices a lost node. Kubernetes' defaults (node-monitor-grace-period
 * 50 s, kubelet lease 40 s renewed every 10 s) make each node-failure case wait about a minute;
 * a test cluster of containers on one host can afford a tighter loop. Recorded in the report's
 * environment: these are not the defaults a production cluster has.
 */
const NodeMonitorSchema = z
  .object({
    /** kube-controller-manager --node-monitor-grace-period: silence after which a node is NotReady. */
    gracePeriodSeconds: z.number().int().min(8).max(300),
    /** kube-controller-manager --node-monitor-period: how often it checks. */
    periodSeconds: z.number().int().min(1).max(60),
    /** kubelet nodeLeaseDurationSeconds (renewed every quarter of it). */
    leaseDurationSeconds: z.number().int().min(4).max(300),
    /** kubelet nodeStatusUpdateFrequency. */
    statusUpdateSeconds: z.number().int().min(1).max(60),
  })
  .strict()
  .refine((m) => m.leaseDurationSeconds <= m.gracePeriodSeconds && m.statusUpdateSeconds * 2 <= m.gracePeriodSeconds, {
    message:
      "a healthy node must report several times per grace period: lease at most the grace period (renewed every quarter of it), status at most half of it",
  });

export type NodeMonitor = z.output<typeof NodeMonitorSchema>;

/**
 * The chaos clusters' node-failure detection: about 30 s to NotReady instead of about 50 s. Not
 * shorter: NF-06 freezes a node for 20 s, which must stay below the grace period as it does with
 * the defaults (a freeze the control plane does not notice), and a node of a loaded 2-core host
 * must never miss it by accident.
 */
export const FAST_NODE_MONITOR: NodeMonitor = {
  gracePeriodSeconds: 30,
  periodSeconds: 2,
  leaseDurationSeconds: 12,
  statusUpdateSeconds: 4,
};

export const ClusterShapeSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lowercase letters, digits, '-')")
      // 48 + "-control-plane" stays within a 63-character DNS label (chaos clusters append -nfN to 40).
      .max(48, "at most 48 characters (node container names append -control-plane / -workerN)")
      .refine(
        (n) => n.startsWith(CLUSTER_PREFIX),
        `must start with "${CLUSTER_PREFIX}" so leftovers can be found and swept`,
      ),
    workers: z.number().int().min(0).max(3),
    /** Mounted into every node (control plane and workers): local PV directories, loop device files. */
    extraMounts: z.array(MountSchema).default([]),
    /** Keep kind's `standard` default StorageClass (false: it is deleted right after creation). */
    defaultStorageClass: z.boolean().default(false),
    featureGates: z.record(z.string(), z.boolean()).default({}),
    /** Node-failure detection; absent: Kubernetes' defaults. */
    nodeMonitor: NodeMonitorSchema.optional(),
    /**
     * Storage every node shares, as a SAN or NAS would be: one host directory of the cluster's own
     * (state.ts sharedStorageDir), mounted into every node at SHARED_STORAGE_NODE_PATH. Asked for
     * by a driver file's spec.cluster.sharedStorage.
     */
    sharedStorage: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.sharedStorage && s.extraMounts.some((m) => m.containerPath === SHARED_STORAGE_NODE_PATH))
      ctx.addIssue({
        code: "custom",
        path: ["extraMounts"],
        message: `${SHARED_STORAGE_NODE_PATH} is where sharedStorage is mounted; another mount there would hide it`,
      });
  });

export type ClusterShape = z.output<typeof ClusterShapeSchema>;
export type ClusterShapeInput = z.input<typeof ClusterShapeSchema>;

export function parseShape(input: unknown): ClusterShape {
  const r = ClusterShapeSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(
      "invalid cluster shape",
      r.error.issues.map((i) => `${i.path.join(".") || "(shape)"}: ${i.message}`),
    );
  }
  return r.data;
}

/** The kind config for a shape. Node labels let tests address workers by index. */
export function kindConfig(shape: ClusterShape): string {
  const shared = shape.sharedStorage
    ? [
        {
          hostPath: sharedStorageDir(shape.name),
          containerPath: SHARED_STORAGE_NODE_PATH,
          readOnly: false,
          propagation: "None" as const,
        },
      ]
    : [];
  const mounts = [...shape.extraMounts, ...shared].map((m) => ({
    hostPath: m.hostPath,
    containerPath: m.containerPath,
    ...(m.readOnly ? { readOnly: true } : {}),
    ...(m.propagation !== "None" ? { propagation: m.propagation } : {}),
  }));
  const node = (role: "control-plane" | "worker", index: number) => ({
    role,
    labels: { "volcert.io/node-index": String(index) },
    ...(mounts.length ? { extraMounts: mounts } : {}),
  });
  const config = {
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    name: shape.name,
    nodes: [node("control-plane", 0), ...Array.from({ length: shape.workers }, (_, i) => node("worker", i + 1))],
    ...(Object.keys(shape.featureGates).length ? { featureGates: shape.featureGates } : {}),
    ...(shape.nodeMonitor ? { kubeadmConfigPatches: nodeMonitorPatches(shape.nodeMonitor) } : {}),
  };
  return `# Generated by volcert (clusters/kind/shape.ts)\n${stringify(config)}`;
}

/** kubeadm config patches (kind merges them into every node's kubeadm.conf, kubeadm v1beta3). */
function nodeMonitorPatches(m: NodeMonitor): string[] {
  return [
    stringify({
      kind: "ClusterConfiguration",
      controllerManager: {
        extraArgs: {
          "node-monitor-grace-period": `${m.gracePeriodSeconds}s`,
          "node-monitor-period": `${m.periodSeconds}s`,
        },
      },
    }),
    stringify({
      kind: "KubeletConfiguration",
      nodeLeaseDurationSeconds: m.leaseDurationSeconds,
      nodeStatusUpdateFrequency: `${m.statusUpdateSeconds}s`,
    }),
  ];
}

/** One line for the report's environment. */
export function describeNodeMonitor(m: NodeMonitor | undefined): string {
  return m
    ? `node-monitor-grace-period ${m.gracePeriodSeconds}s, node-monitor-period ${m.periodSeconds}s, kubelet lease ${m.leaseDurationSeconds}s, status every ${m.statusUpdateSeconds}s (not Kubernetes' defaults)`
    : "Kubernetes' defaults";
}

/** Node container names kind will give the nodes of a shape. */
export function nodeContainerNames(shape: Pick<ClusterShape, "name" | "workers">): string[] {
  return [
    `${shape.name}-control-plane`,
    ...Array.from({ length: shape.workers }, (_, i) => `${shape.name}-worker${i === 0 ? "" : i + 1}`),
  ];
}
