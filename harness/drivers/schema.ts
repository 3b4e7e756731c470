/**
 * The driver definition file (YAML), as a zod schema. Strict everywhere: an unknown key is an
 * error (Kubernetes' own external test driver silently ignores them, so a misspelled capability
 * quietly disables tests). Capability keys are spelled exactly as in Kubernetes'
 * storage/framework Capability constants, so a vendor's storage.testdriver file maps over 1:1.
 */
import { z } from "zod";

export const CAPABILITY_KEYS = [
  "persistence",
  "block",
  "fsGroup",
  "volumeMountGroup",
  "exec",
  "snapshotDataSource",
  "groupSnapshot",
  "pvcDataSource",
  "multipods",
  "RWX",
  "controllerExpansion",
  "nodeExpansion",
  "offlineExpansion",
  "onlineExpansion",
  "volumeLimits",
  "singleNodeVolume",
  "topology",
  "capacity",
  "FSResizeFromSourceNotSupported",
  "readWriteOncePod",
  "multiplePVsSameID",
  "capReadOnlyMany",
] as const;
export type CapabilityKey = (typeof CAPABILITY_KEYS)[number];

/** Operations with their own timeout; each can be overridden per driver. */
export const TIMEOUT_KEYS = [
  "install",
  "podStart",
  "podDelete",
  "claimBound",
  "claimProvision",
  "pvDelete",
  "dataCheck",
] as const;
export type TimeoutKey = (typeof TIMEOUT_KEYS)[number];

const quantity = z
  .string()
  .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/, 'expected a Kubernetes quantity such as "1Gi"');
const duration = z.string().regex(/^(\d+(ms|s|m|h))+$/, 'expected a duration such as "90s" or "5m"');
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS label (lowercase letters, digits, '-')");
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/"), "must be relative to the driver file");
const accessMode = z.enum(["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]);

const Capabilities = z
  .object(
    Object.fromEntries(CAPABILITY_KEYS.map((k) => [k, z.boolean().optional()])) as Record<
      CapabilityKey,
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .strict();

const StorageClassSpec = z
  .object({
    name: dnsLabel,
    provisioner: z.string().min(1),
    parameters: z.record(z.string(), z.string()).default({}),
    reclaimPolicy: z.enum(["Delete", "Retain"]).default("Delete"),
    volumeBindingMode: z.enum(["Immediate", "WaitForFirstConsumer"]).default("Immediate"),
    allowVolumeExpansion: z.boolean().default(false),
    mountOptions: z.array(z.string()).default([]),
  })
  .strict();

const WorkloadRef = z
  .object({
    kind: z.enum(["Deployment", "StatefulSet", "DaemonSet"]),
    name: z.string().min(1),
    namespace: z.string().min(1),
  })
  .strict();

/** In-tree plugins volcert can provision static volumes for. NFS and iSCSI need servers volcert does not run yet. */
const IN_TREE_PLUGINS = ["hostPath", "local"] as const;

const InTree = z
  .object({
    plugin: z.enum(IN_TREE_PLUGINS, {
      error: (issue) =>
        `in-tree plugin ${JSON.stringify(issue.input)} is not supported: volcert can create volumes only for ${IN_TREE_PLUGINS.join(" and ")} (nfs and iscsi need a server volcert does not run yet)`,
    }),
  })
  .strict();

const FlexVolume = z
  .object({
    /** "<vendor>/<driver>": kubelet looks for <vendor>~<driver>/<driver> in its plugin directory. */
    driver: z.string().regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, 'expected "<vendor>/<driver>"'),
    executable: relPath,
    options: z.record(z.string(), z.string()).default({}),
    /** Node paths holding a volume's data, removed when volcert deletes the volume ("{volume}" = PV name). */
    cleanupPaths: z.array(z.string().startsWith("/", "must be an absolute node path")).default([]),
  })
  .strict();

const Csi = z
  .object({
    driverName: z.string().min(1),
    manifests: z.array(relPath).min(1),
    /** Image references in the manifests to replace (e.g. upstream names → locally built ones). */
    imageRewrites: z.record(z.string(), z.string()).default({}),
    controller: WorkloadRef.optional(),
    node: WorkloadRef,
    /** What the CSIDriver object must say (IN-02 cross-checks it). */
    expect: z
      .object({
        attachRequired: z.boolean().optional(),
        fsGroupPolicy: z.enum(["None", "File", "ReadWriteOnceWithFSType"]).optional(),
        volumeLifecycleModes: z.array(z.enum(["Persistent", "Ephemeral"])).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const DriverSpecSchema = z
  .object({
    type: z.enum(["in-tree", "flexvolume", "csi"]),
    inTree: InTree.optional(),
    flexVolume: FlexVolume.optional(),
    csi: Csi.optional(),
    /** Not implemented yet: accepted by the parser only to be rejected with a useful message. */
    helm: z.unknown().optional(),
    storageClasses: z.array(StorageClassSpec).default([]),
    capabilities: Capabilities.default({}),
    /**
     * Node paths holding a provisioned volume's data ({volumeHandle}, {pv}). After a volume is
     * deleted volcert checks every node for them (RP-01, RP-05, DP-07 and the leak check), so a
     * driver that only deletes the API object is caught.
     */
    volumeDataPaths: z.array(z.string().startsWith("/", "must be an absolute node path")).default([]),
    supportedFsTypes: z.array(z.string()).default([""]),
    supportedMountOptions: z.array(z.string()).default([]),
    accessModes: z.array(accessMode).default(["ReadWriteOnce"]),
    sizeRange: z
      .object({ min: quantity.default("1Mi"), max: quantity.optional() })
      .strict()
      .default({ min: "1Mi" }),
    timeouts: z
      .object(
        Object.fromEntries(TIMEOUT_KEYS.map((k) => [k, duration.optional()])) as Record<
          TimeoutKey,
          z.ZodOptional<typeof duration>
        >,
      )
      .strict()
      .default({}),
    /** Multiplies every timeout (slow backends). */
    timeoutMultiplier: z.number().positive().max(20).default(1),
    /** Why this driver cannot be exercised on this machine at all (e.g. no NFS in the kernel). */
    unsupportedHere: z.string().optional(),
  })
  .strict();

export const DriverFileSchema = z
  .object({
    apiVersion: z.literal("volcert.io/v1alpha1"),
    kind: z.literal("Driver"),
    metadata: z.object({ name: dnsLabel, version: z.string().optional(), description: z.string().optional() }).strict(),
    spec: DriverSpecSchema,
  })
  .strict()
  .superRefine((d, ctx) => {
    const section = { "in-tree": "inTree", flexvolume: "flexVolume", csi: "csi" } as const;
    const need = section[d.spec.type];
    if (d.spec.helm !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["spec", "helm"],
        message:
          "Helm installs are not implemented yet: render the chart (helm template) and list the files under spec.csi.manifests",
      });
    }
    if (!d.spec[need]) {
      ctx.addIssue({
        code: "custom",
        path: ["spec", need],
        message: `spec.type is "${d.spec.type}", so spec.${need} is required`,
      });
    }
    for (const other of Object.values(section)) {
      if (other !== need && d.spec[other]) {
        ctx.addIssue({
          code: "custom",
          path: ["spec", other],
          message: `spec.type is "${d.spec.type}"; spec.${other} does not apply`,
        });
      }
    }
    const names = d.spec.storageClasses.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup)
      ctx.addIssue({
        code: "custom",
        path: ["spec", "storageClasses"],
        message: `storage class name "${dup}" is used twice`,
      });
  });

export type DriverFile = z.output<typeof DriverFileSchema>;
export type DriverSpec = DriverFile["spec"];
export type StorageClassDef = DriverSpec["storageClasses"][number];
