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
    /** Older releases (before TestTags): a Ginkgo label such as "[Feature:foo]". Kept as a note. */
    FeatureTag: z.string().optional(),
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

/**
 * True when a parsed YAML document looks like an upstream test driver file: it has a `DriverInfo`
 * key in any letter case (a wrong-case `driverInfo` is still recognised as upstream, so the
 * problem reported is the key's case, not a missing apiVersion).
 */
export function isUpstreamFormat(doc: unknown): boolean {
  return !!doc && typeof doc === "object" && Object.keys(doc).some((k) => k.toLowerCase() === "driverinfo");
}

const GO_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A Go `time.ParseDuration` string ("5m", "1h30m", "1.5s", "300ms") in milliseconds, or null when
 * it is not one ("5 minutes", "300", ""). Upstream reads Timeouts with ParseDuration.
 */
export function parseGoDuration(text: string): number | null {
  const t = text.trim();
  if (t === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let ms = 0;
  let at = 0;
  const sign = t.startsWith("-") ? -1 : 1;
  const body = t.replace(/^[-+]/, "");
  if (!body) return null;
  re.lastIndex = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    ms += Number(m[1]) * (GO_UNITS[m[2] as string] as number);
    at = re.lastIndex;
  }
  return at === body.length && at > 0 ? sign * ms : null;
}

/** Milliseconds as a volcert duration in its largest exact unit ("6m", "90s", "1500ms"). */
function volcertDuration(ms: number): string {
  const whole = Math.round(ms);
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (whole > 0 && whole % size === 0) return `${whole / size}${unit}`;
  return `${whole}ms`;
}

/** The name of the StorageClass volcert creates for an upstream file's class. */
export function upstreamClassName(driverName: string): string {
  return `volcert-${driverName}`.slice(0, 63).replace(/-+$/, "");
}

/**
 * Upstream's backward compatibility (external.go): controllerExpansion without an explicit
 * onlineExpansion/offlineExpansion means both are supported.
 */
function withExpansionDefaults(caps: Record<string, boolean | undefined>): Record<string, boolean | undefined> {
  const out = { ...caps };
  if (caps["controllerExpansion"]) {
    out["onlineExpansion"] ??= true;
    out["offlineExpansion"] ??= true;
  }
  return out;
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
export function fromUpstream(u: UpstreamTestDriver): {
  driver: DriverFile;
  notes: string[];
  problems: string[];
  /** StorageClass.FromFile, for the loader to read (relative to the testdriver file). */
  classFile?: string;
} {
  const info = u.DriverInfo;
  const notes: string[] = [];
  const problems: string[] = [];
  if (info.FeatureTag)
    notes.push(`DriverInfo.FeatureTag (${info.FeatureTag}) is from an older release; volcert ignores it`);
  const name = info.Name.toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  const timeouts: DriverFile["spec"]["timeouts"] = {};
  for (const [k, v] of Object.entries(u.Timeouts ?? {})) {
    const mapped = TIMEOUT_MAP[k];
    const ms = parseGoDuration(v);
    if (ms === null) problems.push(`Timeouts.${k}: "${v}" is not a Go duration such as "5m", "90s" or "1h30m"`);
    else if (mapped) timeouts[mapped] = volcertDuration(ms);
    else notes.push(`Timeouts.${k} has no volcert equivalent and is ignored`);
  }
  if (u.StorageClass?.FromExistingClassName)
    notes.push(
      `StorageClass.FromExistingClassName (${u.StorageClass.FromExistingClassName}) is not read yet: use FromFile with that class's YAML, or FromName`,
    );
  if (u.InlineVolumes?.length) notes.push("InlineVolumes are not exercised by volcert yet");
  // As upstream: dynamic provisioning only with a class (FromName: the driver as provisioner, no
  // parameters; FromFile: read by the loader, which has the file system). The class volcert
  // creates has a name of its own, so no class of the cluster's is ever changed.
  const storageClasses =
    u.StorageClass?.FromName && !u.StorageClass.FromFile
      ? [
          {
            name: upstreamClassName(name),
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
        // Upstream files describe a driver already installed: no manifests, workloads unknown.
        manifests: [],
        imageRewrites: {},
        expect: {},
      },
      // The cluster it is installed in provides whatever it needs.
      cluster: {},
      storageClasses,
      volumeDataPaths: [],
      capabilities: withExpansionDefaults(info.Capabilities ?? {}),
      supportedFsTypes: info.SupportedFsType ? Object.keys(info.SupportedFsType) : [""],
      supportedMountOptions: Object.keys(info.SupportedMountOption ?? {}),
      accessModes: info.RequiredAccessModes ?? ["ReadWriteOnce"],
      sizeRange: {
        // Upstream's default when the file says nothing (test/e2e/storage/external/external.go).
        min: info.SupportedSizeRange?.Min ?? "5Gi",
        ...(info.SupportedSizeRange?.Max ? { max: info.SupportedSizeRange.Max } : {}),
      },
      timeouts,
      timeoutMultiplier: 1,
    },
  };
  return { driver, notes, problems, ...(u.StorageClass?.FromFile ? { classFile: u.StorageClass.FromFile } : {}) };
}

/**
 * StorageClass.FromFile's content as a volcert class: exactly one StorageClass object (as
 * upstream requires), provisioned by the driver. Returns the class or the problems.
 */
export function classFromManifest(
  docs: readonly unknown[],
  file: string,
  driver: DriverFile,
): { storageClass?: DriverFile["spec"]["storageClasses"][number]; problems: string[] } {
  const objects = docs.filter((d) => d !== null && d !== undefined);
  const sc = objects[0] as Record<string, unknown> | undefined;
  if (objects.length !== 1 || !sc || sc["kind"] !== "StorageClass")
    return {
      problems: [`StorageClass.FromFile ${file}: must hold exactly one StorageClass object (as upstream requires)`],
    };
  const provisioner = String(sc["provisioner"] ?? "");
  const problems =
    provisioner === driver.spec.csi?.driverName
      ? []
      : [
          `StorageClass.FromFile ${file}: provisioner "${provisioner}" is not DriverInfo.Name "${driver.spec.csi?.driverName}"`,
        ];
  return {
    problems,
    storageClass: {
      name: upstreamClassName(driver.metadata.name),
      provisioner,
      parameters: (sc["parameters"] as Record<string, string> | undefined) ?? {},
      reclaimPolicy: (sc["reclaimPolicy"] as "Delete" | "Retain" | undefined) ?? "Delete",
      volumeBindingMode: (sc["volumeBindingMode"] as "Immediate" | "WaitForFirstConsumer" | undefined) ?? "Immediate",
      allowVolumeExpansion: (sc["allowVolumeExpansion"] as boolean | undefined) ?? false,
      mountOptions: (sc["mountOptions"] as string[] | undefined) ?? [],
    },
  };
}
