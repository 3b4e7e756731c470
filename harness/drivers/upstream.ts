/**
 * Kubernetes' external storage test driver format (`-storage.testdriver=<file>`, the file a vendor
 * already has for e2e.test) loaded as-is and mapped onto volcert's driver definition. Unknown keys
 * are rejected here too: upstream ignores them, which hides typos.
 */
import { z } from "zod";
import { CAPABILITY_KEYS, type DriverFile } from "./schema.ts";

const FromClass = z
  .object({
    FromName: z.boolean().optional(),
    FromFile: z.string().optional(),
    FromExistingClassName: z.string().optional(),
  })
  .strict();

const Quantity = z.union([z.string(), z.number()]).transform((v) => String(v));

export const UpstreamDriverInfo = z
  .object({
    Name: z.string().min(1),
    InTreePluginName: z.string().optional(),
    TestTags: z.array(z.unknown()).optional(),
    MaxFileSize: z.number().optional(),
    SupportedSizeRange: z.object({ Min: Quantity.optional(), Max: Quantity.optional() }).strict().optional(),
    SupportedFsType: z.record(z.string(), z.unknown()).optional(),
    SupportedMountOption: z.record(z.string(), z.unknown()).optional(),
    RequiredMountOption: z.record(z.string(), z.unknown()).optional(),
    Capabilities: z
      .object(Object.fromEntries(CAPABILITY_KEYS.map((k) => [k, z.boolean().optional()])))
      .strict()
      .optional(),
    RequiredAccessModes: z
      .array(z.enum(["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]))
      .optional(),
    TopologyKeys: z.array(z.string()).optional(),
    NumAllowedTopologies: z.number().optional(),
    StressTestOptions: z.record(z.string(), z.unknown()).optional(),
    VolumeSnapshotStressTestOptions: z.record(z.string(), z.unknown()).optional(),
    VolumeModifyStressTestOptions: z.record(z.string(), z.unknown()).optional(),
    PerformanceTestOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const UpstreamTestDriverSchema = z
  .object({
    DriverInfo: UpstreamDriverInfo,
    StorageClass: FromClass.optional(),
    SnapshotClass: FromClass.optional(),
    VolumeAttributesClass: FromClass.optional(),
    InlineVolumes: z
      .array(
        z
          .object({
            Attributes: z.record(z.string(), z.string()).optional(),
            Shared: z.boolean().optional(),
            ReadOnly: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    ClientNodeName: z.string().optional(),
    NodeSelectors: z.record(z.string(), z.string()).optional(),
    Timeouts: z.record(z.string(), z.string()).optional(),
    /** Present in Kubernetes' own test data; not used by the e2e suite. */
    ShortName: z.string().optional(),
  })
  .strict();

export type UpstreamTestDriver = z.output<typeof UpstreamTestDriverSchema>;

/** True when a parsed YAML document looks like an upstream test driver file. */
export function isUpstreamFormat(doc: unknown): boolean {
  return !!doc && typeof doc === "object" && "DriverInfo" in doc;
}

/** Upstream timeout names → volcert operation names (others are kept out, with a note). */
const TIMEOUT_MAP: Record<string, keyof DriverFile["spec"]["timeouts"]> = {
  PodStart: "podStart",
  PodStartSlow: "podStart",
  PodDelete: "podDelete",
  ClaimBound: "claimBound",
  ClaimProvision: "claimProvision",
  PVDelete: "pvDelete",
};

/**
 * Maps an upstream file onto a volcert driver definition. Installation is not part of the upstream
 * format (the driver is assumed installed), so the result describes a CSI driver already deployed
 * in the cluster: `spec.csi.manifests` is empty and the caller must supply an install or use a
 * bring-your-own cluster.
 */
export function fromUpstream(u: UpstreamTestDriver): { driver: DriverFile; notes: string[] } {
  const info = u.DriverInfo;
  const notes: string[] = [];
  const name = info.Name.toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  const timeouts: DriverFile["spec"]["timeouts"] = {};
  for (const [k, v] of Object.entries(u.Timeouts ?? {})) {
    const mapped = TIMEOUT_MAP[k];
    if (mapped) timeouts[mapped] = v;
    else notes.push(`Timeouts.${k} has no volcert equivalent and is ignored`);
  }
  if (u.StorageClass?.FromFile)
    notes.push("StorageClass.FromFile: load that file and add it under spec.storageClasses");
  if (u.InlineVolumes?.length) notes.push("InlineVolumes are not exercised by volcert yet");
  const storageClasses =
    u.StorageClass?.FromName || (!u.StorageClass && !info.InTreePluginName)
      ? [
          {
            name: `${name}-sc`.slice(0, 63),
            provisioner: info.Name,
            parameters: {},
            reclaimPolicy: "Delete" as const,
            volumeBindingMode: "Immediate" as const,
            allowVolumeExpansion: !!info.Capabilities?.controllerExpansion,
            mountOptions: Object.keys(info.RequiredMountOption ?? {}),
          },
        ]
      : [];
  const driver: DriverFile = {
    apiVersion: "volcert.io/v1alpha1",
    kind: "Driver",
    metadata: { name, description: `mapped from an upstream storage.testdriver file for ${info.Name}` },
    spec: {
      type: "csi",
      csi: {
        driverName: info.Name,
        manifests: ["(installed outside volcert)"],
        imageRewrites: {},
        node: { kind: "DaemonSet", name: "(unknown)", namespace: "(unknown)" },
        expect: {},
      },
      storageClasses,
      volumeDataPaths: [],
      capabilities: { ...info.Capabilities },
      supportedFsTypes: info.SupportedFsType ? Object.keys(info.SupportedFsType) : [""],
      supportedMountOptions: Object.keys(info.SupportedMountOption ?? {}),
      accessModes: info.RequiredAccessModes ?? ["ReadWriteOnce"],
      sizeRange: {
        min: info.SupportedSizeRange?.Min ?? "1Mi",
        ...(info.SupportedSizeRange?.Max ? { max: info.SupportedSizeRange.Max } : {}),
      },
      timeouts,
      timeoutMultiplier: 1,
    },
  };
  return { driver, notes };
}
