/**
 * The driver definition file (YAML), as a zod schema. Strict everywhere: an unknown key is an
 * error (Kubernetes' own external test driver silently ignores them, so a misspelled capability
 * quietly disables tests). Capability keys are spelled exactly as in Kubernetes'
 * storage/framework Capability constants, so a vendor's storage.testdriver file maps over 1:1.
 *
 * Every field carries a description written for the storage vendor who fills it in: it reaches
 * editors through the JSON Schema (json-schema.ts) and docs/driver-reference.md (reference.ts).
 * Value checks report every problem at once, each naming the limit it enforces.
 */
import { posix } from "node:path";
import { z } from "zod";
import { QUANTITY_PATTERN, quantityToBytes } from "./quantity.ts";
import { closest } from "./suggest.ts";
import { DEFAULT_TIMEOUTS_MS, parseDuration } from "./timeouts.ts";

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
  "sizeEnforced",
] as const;
export type CapabilityKey = (typeof CAPABILITY_KEYS)[number];

const NOT_USED_YET = "volcert does not exercise it yet; it is accepted so a storage.testdriver file maps over 1:1.";

/** What each capability means (upstream's wording first) and which volcert cases it gates or shapes. */
const CAPABILITY_DOCS: Record<CapabilityKey, string> = {
  persistence:
    "Data is persisted across pod restarts (upstream CapPersistence). Every case that stores data in a volume requires it: IN-04, AM-01..12, BD-05..09, DP-01..11, RP-01..05, LP-01..07, CA-02 and NF-01..11 are skipped without it.",
  block:
    "Raw block mode (upstream CapBlock): volumes can be used with volumeMode: Block. DP-08 (a dynamic claim with volumeMode Block reaches the pod as a block device and round-trips data with direct I/O), VM-02, VM-04 and EX-04 require it.",
  fsGroup: `Volume ownership via fsGroup (upstream CapFsGroup): the kubelet applies the pod's securityContext.fsGroup to the volume's files. ${NOT_USED_YET}`,
  volumeMountGroup: `The driver has the VolumeMountGroup CSI node capability (upstream CapVolumeMountGroup): the kubelet passes fsGroup to NodeStageVolume/NodePublishVolume. Because this is an fsGroup feature, fsGroup must also be true. ${NOT_USED_YET}`,
  exec: "A file in the volume can be executed (upstream CapExec): the volume is not mounted noexec. DP-03 (a script written to a dynamically provisioned volume runs in the pod) and AM-10 (the same on the volume volcert gets from the driver, static or dynamic, with the mount flags recorded) require it.",
  snapshotDataSource:
    "New volumes can be populated from a VolumeSnapshot (upstream CapSnapshotDataSource). SN-01..03, SN-05 and SN-06 require it; the cluster must serve the VolumeSnapshot API (spec.cluster.volumeSnapshots).",
  groupSnapshot: `The driver supports VolumeGroupSnapshots (upstream CapVolumeGroupSnapshot). ${NOT_USED_YET}`,
  pvcDataSource:
    "New volumes can be populated from another claim, i.e. cloning (upstream CapPVCDataSource). SN-04 requires it.",
  multipods:
    "Multiple pods on one node can use the same volume concurrently (upstream CapMultiPODs; for CSI see NodeStageVolume in the CSI spec). AM-03 (two pods on one node share a claim and see each other's writes) and AM-11 (the same while pods come and go: one instance of the volume on the node) require it.",
  RWX: "The driver supports the ReadWriteMany access mode (upstream CapRWX): pods on different nodes share one volume. AM-04 requires it, together with ReadWriteMany in spec.accessModes and two worker nodes.",
  controllerExpansion:
    "The controller can expand volumes (upstream CapControllerExpansion). IN-02 checks that every StorageClass in spec.storageClasses has allowVolumeExpansion equal to this value; EX-02..05 and SN-03 require it.",
  nodeExpansion:
    "The node plugin can expand the filesystem of an expanded volume (upstream CapNodeExpansion). EX-02..04 check the size a pod sees, whatever this says: a driver without it must grow the filesystem another way.",
  offlineExpansion: `The driver can expand a volume that no pod uses (upstream CapOfflineExpansion; upstream treats it as true when controllerExpansion is true, set false only if the driver can expand a volume only while a pod uses it). volcert does not assume it: EX-02 requires it declared.`,
  onlineExpansion: `The driver can expand a volume that a pod uses (upstream CapOnlineExpansion; upstream treats it as true when controllerExpansion is true, set false if the driver can expand a volume only while it is detached). volcert does not assume it: EX-03 and EX-04 require it declared.`,
  volumeLimits:
    "The driver reports how many volumes a node can attach (upstream CapVolumeLimits): LM-01 requires it and checks allocatable.count in every worker's CSINode entry.",
  singleNodeVolume:
    "A volume is usable on a single node only, like hostPath (upstream CapSingleNodeVolume): its data cannot follow a pod to another node. Shapes what cases expect: AM-02 and DP-02 check re-created pods on the same node instead of another one, and the NF chaos cases (NF-02..05, NF-07) expect a lost pod to come back on its node, not elsewhere.",
  topology:
    "The driver supports topology (upstream CapTopology): a volume is reachable only from some nodes and Kubernetes is told which (CSI accessible topology, or node affinity on the PV). BD-07 and LP-01..07 require it, and DP-11 with singleNodeVolume (every provisioned PV's node affinity admits exactly the node holding its data); without it a singleNodeVolume driver gets a note with its verdict (the scheduler cannot place pods where the data is); IN-02 then expects every node's CSINode entry to list topology keys; in the NF chaos cases a node-local driver with topology is expected to keep a lost pod's replacement Pending by the PV's node affinity (without topology the workload pins itself with a node selector).",
  capacity:
    "The driver publishes storage capacity (CSIStorageCapacity objects, from GetCapacity through external-provisioner --enable-capacity) for its WaitForFirstConsumer StorageClasses (upstream CapCapacity). CA-01 requires it: the objects appear and go with the class, and the scheduler places no pod whose claim fits in no segment.",
  FSResizeFromSourceNotSupported: `Anti-capability: the driver cannot resize the filesystem of claims cloned or restored from a snapshot (upstream CapFSResizeFromSourceNotSupported). ${NOT_USED_YET}`,
  readWriteOncePod:
    "The driver supports the ReadWriteOncePod access mode (upstream CapReadWriteOncePod; needs csi-provisioner v3.0.0+, csi-attacher v3.3.0+, csi-resizer v1.3.0+). AM-07 requires it, together with ReadWriteOncePod in spec.accessModes.",
  multiplePVsSameID: `The driver handles two PersistentVolumes with the same volumeHandle (upstream CapMultiplePVsSameID): recommended for ReadWriteMany volumes shared across namespaces; only drivers that inspect Kubernetes PV objects should leave it off. ${NOT_USED_YET}`,
  sizeEnforced:
    "volcert's own (no upstream equivalent): every volume is a filesystem or device of its own, sized by the claim, so a pod can store about the PV's capacity and no more (writes past it fail with ENOSPC). True for image-, block- or quota-backed drivers; false for directory-backed ones (hostPath, local directories, csi-hostpath), whose volumes share the node's filesystem. CA-02 checks for every driver that the filesystem a pod sees holds the PV's capacity (within filesystem overhead); with sizeEnforced it also checks that the filesystem is no larger than the PV and the driver's sizeRange.max, and that filling the volume ends in ENOSPC without touching a neighbouring volume.",
  capReadOnlyMany:
    "The driver supports the ReadOnlyMany access mode (upstream CapReadOnlyMany). AM-06 requires it, together with ReadOnlyMany in spec.accessModes and two worker nodes.",
};

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

/** Longest timeout a driver may set for one operation (before timeoutMultiplier). */
export const MAX_TIMEOUT_MS = 2 * 3_600_000;

const TIMEOUT_DOCS: Record<TimeoutKey, string> = {
  install:
    "Installing a CSI driver: its node (and controller) workloads ready and the driver registered in CSINode on every node; also bounds waiting for its objects to be deleted on uninstall.",
  podStart: "A pod that uses a volume becoming Ready (scheduling, attach, mount included).",
  podDelete: "A pod that uses a volume being gone from the API (unmount included).",
  claimBound: "A claim binding to a static (pre-created) PersistentVolume, and a static PV changing phase.",
  claimProvision: "A claim on the driver's StorageClass binding to a newly provisioned volume (dynamic provisioning).",
  pvDelete:
    "A deleted dynamic volume's PersistentVolume being gone, and its data being gone from every node (spec.volumeDataPaths); also how long volumes may settle before a case's leak check.",
  dataCheck: "Checks of a volume's data on the nodes; part of every case's time budget (harness/case/budget.ts).",
};

/** "5m", "1h30m", "1500ms": a duration in the driver file's own notation. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let left = ms;
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (left >= size) {
      parts.push(`${Math.floor(left / size)}${unit}`);
      left %= size;
    }
  }
  if (left || !parts.length) parts.push(`${left}ms`);
  return parts.join("");
}

/** Placeholders of spec.volumeDataPaths (harness/case/dynamic.ts fills them in). */
export const VOLUME_DATA_PLACEHOLDERS: Record<string, string> = {
  "{volumeHandle}":
    "the CSI volume handle of the PersistentVolume (spec.csi.volumeHandle, the volume ID CreateVolume returned); the PV name for a non-CSI volume",
  "{pv}": "the PersistentVolume's name (e.g. pvc-0b6d…)",
};
/** Placeholders of spec.flexVolume.cleanupPaths (harness/drivers/intree.ts fills them in). */
export const CLEANUP_PLACEHOLDERS: Record<string, string> = {
  "{volume}": "the name of the PersistentVolume volcert created for the FlexVolume volume",
};
/**
 * Directories a node path must not collapse to once its placeholders are empty: volcert would
 * check (volumeDataPaths) or rm -rf (cleanupPaths) a directory the whole node depends on.
 */
export const SYSTEM_DIRECTORIES = [
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib64",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var",
  "/var/lib",
  "/var/lib/kubelet",
  "/tmp",
] as const;

/** Everything wrong with a node path template, one message each. `use` says what volcert does with the path. */
function nodePathProblems(path: string, placeholders: readonly string[], use: string): string[] {
  const problems: string[] = [];
  const known = placeholders.join(", ");
  const tokens = path.match(/\{[^{}]*\}/g) ?? [];
  for (const t of tokens.filter((t) => !placeholders.includes(t))) {
    const hint = closest(t, placeholders);
    problems.push(`unknown placeholder ${t}${hint ? ` (did you mean ${hint}?)` : ""}; known placeholders: ${known}`);
  }
  const bare = path.replace(/\{[^{}]*\}/g, "");
  if (/[{}]/.test(bare))
    problems.push(`has a "{" or "}" that is not part of a placeholder; known placeholders: ${known}`);
  if (!tokens.length)
    problems.push(
      `must contain a placeholder (${known}): a fixed path is the same for every volume, so ${use} a path all volumes share`,
    );
  if (path.split("/").includes("..")) problems.push('must not contain ".." segments: name the directory directly');
  const collapsed = posix.normalize(bare).replace(/(.)\/+$/, "$1");
  if ((SYSTEM_DIRECTORIES as readonly string[]).includes(collapsed))
    problems.push(
      `with its placeholders empty this is ${collapsed}, a system directory (${use} it): use a directory of the driver's own, such as /var/lib/<driver>/${placeholders[0]}`,
    );
  return problems;
}

function nodePathTemplate(placeholders: Record<string, string>, use: string) {
  const names = Object.keys(placeholders);
  return z
    .string()
    .startsWith("/", "must be an absolute node path")
    .superRefine((p, ctx) => {
      for (const message of nodePathProblems(p, names, use)) ctx.addIssue({ code: "custom", message });
    });
}

const quantity = z.string().regex(QUANTITY_PATTERN, 'expected a Kubernetes quantity such as "1Gi"');
const DURATION = /^(\d+(ms|s|m|h))+$/;
const duration = z
  .string()
  .regex(DURATION, 'expected a duration such as "90s" or "5m"')
  .superRefine((text, ctx) => {
    if (!DURATION.test(text)) return;
    const ms = parseDuration(text);
    if (ms <= 0) ctx.addIssue({ code: "custom", message: `must be more than 0 ("${text}" is no time at all)` });
    else if (ms > MAX_TIMEOUT_MS)
      ctx.addIssue({
        code: "custom",
        message: `must be at most ${formatDuration(MAX_TIMEOUT_MS)} ("${text}" is ${formatDuration(ms)})`,
      });
  });

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const tooLong = (what: string, max: number) => ({
  error: (issue: { input?: unknown }) =>
    `${what} is at most ${max} characters; this one has ${String(issue.input ?? "").length}`,
});
const dnsLabel = z
  .string()
  .regex(DNS_LABEL, "expected a DNS label (lowercase letters, digits, '-')")
  .max(63, tooLong("a DNS label", 63));
const dnsSubdomain = z
  .string()
  .regex(DNS_SUBDOMAIN, "expected a DNS subdomain (lowercase letters, digits, '-' and '.')")
  .max(253, tooLong("a DNS subdomain", 253));
const csiDriverName = z
  .string()
  .regex(
    DNS_SUBDOMAIN,
    "expected a CSI driver name (Kubernetes CSIDriver name rules: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, e.g. \"hostpath.csi.example.com\")",
  )
  .max(63, tooLong("a CSI driver name", 63));
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/"), "must be relative to the driver file");
const ACCESS_MODES = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"] as const;
const accessMode = z
  .enum(ACCESS_MODES)
  .describe(
    "A Kubernetes access mode: ReadWriteOnce (one node reads and writes), ReadOnlyMany (many nodes read), ReadWriteMany (many nodes read and write), ReadWriteOncePod (one pod reads and writes).",
  );

const Capabilities = z
  .object(
    Object.fromEntries(CAPABILITY_KEYS.map((k) => [k, z.boolean().optional().describe(CAPABILITY_DOCS[k])])) as Record<
      CapabilityKey,
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .strict();

const StorageClassSpec = z
  .object({
    name: dnsLabel.describe(
      "The StorageClass object's name (a DNS label, at most 63 characters), unique within the file. volcert creates the class with this name when it installs a CSI driver; dynamic cases clone the first class of the list under the case's own name. Example: acme-fast.",
    ),
    provisioner: z
      .string()
      .min(1)
      .describe(
        "The StorageClass's provisioner: the driver that creates its volumes. For a CSI driver this is spec.csi.driverName. Example: hostpath.csi.example.com.",
      ),
    parameters: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "The StorageClass's parameters, passed to the driver on CreateVolume as they are. Default: none. Example: { type: ssd }. DP-04 adds csi.storage.k8s.io/fstype for each entry of spec.supportedFsTypes.",
      ),
    reclaimPolicy: z
      .enum(["Delete", "Retain"])
      .default("Delete")
      .describe(
        "What happens to a dynamic volume when its claim is deleted: Delete (the driver deletes the volume and its data; RP-01, RP-02 and RP-05 check the data is gone from every node) or Retain (the PV and the data stay). Default: Delete.",
      ),
    volumeBindingMode: z
      .enum(["Immediate", "WaitForFirstConsumer"])
      .default("Immediate")
      .describe(
        "When a claim is provisioned: Immediate (as soon as it is created) or WaitForFirstConsumer (once a pod uses it, on that pod's node; use it for node-local or topology-aware drivers). Default: Immediate.",
      ),
    allowVolumeExpansion: z
      .boolean()
      .default(false)
      .describe(
        "Whether claims of this class may be resized. IN-02 checks it equals spec.capabilities.controllerExpansion. Default: false.",
      ),
    mountOptions: z
      .array(z.string())
      .default([])
      .describe(
        "Mount options of the class, passed to the driver for every volume (DP-01 checks the PV carries them). Default: none. Example: [noatime].",
      ),
  })
  .strict();

const workloadRef = (role: string) =>
  z
    .object({
      kind: z
        .enum(["Deployment", "StatefulSet", "DaemonSet"])
        .describe(`Kind of the ${role} workload object in spec.csi.manifests: Deployment, StatefulSet or DaemonSet.`),
      name: dnsSubdomain.describe(
        `Name of the ${role} workload object as in the manifests (a DNS subdomain, at most 253 characters). Example: acme-csi-${role === "node plugin" ? "node" : "controller"}.`,
      ),
      namespace: dnsLabel.describe(
        `Namespace of the ${role} workload (a DNS label, at most 63 characters). The manifests must create it unless it is built in (kube-system). Example: acme-csi.`,
      ),
    })
    .strict();

/** In-tree plugins volcert can provision static volumes for. NFS and iSCSI need servers volcert does not run yet. */
const IN_TREE_PLUGINS = ["hostPath", "local"] as const;

const InTree = z
  .object({
    plugin: z
      .enum(IN_TREE_PLUGINS, {
        error: (issue) =>
          `in-tree plugin ${JSON.stringify(issue.input)} is not supported: volcert can create volumes only for ${IN_TREE_PLUGINS.join(" and ")} (nfs and iscsi need a server volcert does not run yet)`,
      })
      .describe(
        "The in-tree volume plugin: hostPath (PVs on a node directory, no node affinity: the scheduler does not know where the data is) or local (PVs with required node affinity to the node holding the directory). volcert plays the administrator: it creates a directory under /var/lib/volcert-volumes on a node and a static PersistentVolume for it per case. nfs and iscsi are not supported (they need a server volcert does not run yet).",
      ),
  })
  .strict();

const FlexVolume = z
  .object({
    /** "<vendor>/<driver>": kubelet looks for <vendor>~<driver>/<driver> in its plugin directory. */
    driver: z
      .string()
      .regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, 'expected "<vendor>/<driver>"')
      .describe(
        'The FlexVolume driver name, "<vendor>/<driver>". volcert installs the executable on every node as /usr/libexec/kubernetes/kubelet-plugins/volume/exec/<vendor>~<driver>/<driver>, where the kubelet looks for it, and waits until `init` answers Success on each node. Example: acme/loop.',
      ),
    executable: relPath.describe(
      "The driver executable, relative to the driver file. It is copied to every node (mode 0755) and run there by the kubelet, so it must run in the node's environment. Example: bin/loop.",
    ),
    options: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "Options volcert puts in every FlexVolume PersistentVolume it creates (spec.flexVolume.options), passed to the driver's mount calls. Default: none. Example: { size: 64Mi }.",
      ),
    /** Node paths holding a volume's data, removed when volcert deletes the volume ("{volume}" = PV name). */
    cleanupPaths: z
      .array(nodePathTemplate(CLEANUP_PLACEHOLDERS, "volcert's rm -rf after each volume would delete"))
      .default([])
      .describe(
        "Node paths holding a volume's data, removed (rm -rf on the volume's node) when volcert deletes the volume. Each must contain {volume} (the PV's name), may not use any other placeholder, and may not be a system directory once {volume} is empty. Default: none. Example: [/var/lib/acme-flex/{volume}.img].",
      ),
  })
  .strict();

const Csi = z
  .object({
    driverName: csiDriverName.describe(
      "The CSI driver's name as it registers with the kubelet and as its CSIDriver object is named (Kubernetes CSIDriver name rules: at most 63 characters, lowercase letters, digits, '-' and '.', starting and ending with a letter or digit). volcert waits until every node's CSINode lists it, and IN-02 reads the CSIDriver object of this name. Example: hostpath.csi.example.com.",
    ),
    manifests: z
      .array(relPath)
      .default([])
      .describe(
        "The Kubernetes manifests (YAML, several documents per file allowed) that install the driver, relative to the driver file, applied in the order listed (put a namespace before what lives in it). A driver installed from a Helm chart gives spec.helm instead and leaves this empty: exactly one of the two installs it. Empty with no spec.helm describes a driver that is already installed in the cluster, as an upstream storage.testdriver file does; volcert cannot install such a driver, only test it where it is installed. Example: [deploy/rbac.yaml, deploy/driver.yaml].",
      ),
    /** Image references in the manifests to replace (e.g. upstream names → locally built ones). */
    imageRewrites: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "Image references in the manifests (or the chart's rendered objects) to replace, from → to (e.g. upstream names → locally built ones). volcert has no registry: every image the manifests use (after rewriting) must be in the local Docker engine and is loaded into the nodes. A rewrite no manifest uses is an error. For a Helm chart the rewrite is a Helm post-renderer, which Helm 3 does not apply to hooks: a hook that runs a rewritten image is an error. Default: none. Example: { registry.k8s.io/sig-storage/csi-provisioner:v6.3.0: acme/csi-provisioner:v6.3.0 }.",
      ),
    controller: workloadRef("controller")
      .optional()
      .describe(
        "The controller workload (provisioner, attacher, … sidecars with the controller plugin), if the driver has one: volcert waits until it is ready after installing. Omit it for a driver without a controller.",
      ),
    node: workloadRef("node plugin")
      .optional()
      .describe(
        "The node plugin workload (usually a DaemonSet): volcert waits until it is ready on every node after installing; NF-08 keeps it off one node and NF-08/NF-09 find the plugin pod on a node by it (they are skipped without it). Required when volcert installs the driver (spec.csi.manifests or spec.helm).",
      ),
    /** What the CSIDriver object must say (IN-02 cross-checks it). */
    expect: z
      .object({
        attachRequired: z
          .boolean()
          .optional()
          .describe(
            "What the CSIDriver object's spec.attachRequired must be: true if volumes go through ControllerPublishVolume and a VolumeAttachment. Cases about VolumeAttachments apply only when this is true. Omit it to leave it unchecked.",
          ),
        fsGroupPolicy: z
          .enum(["None", "File", "ReadWriteOnceWithFSType"])
          .optional()
          .describe(
            "What the CSIDriver object's spec.fsGroupPolicy must be: None (the kubelet never changes ownership), File (it always applies fsGroup) or ReadWriteOnceWithFSType (only for ReadWriteOnce volumes with an fsType; the API default). Omit it to leave it unchecked.",
          ),
        volumeLifecycleModes: z
          .array(z.enum(["Persistent", "Ephemeral"]))
          .optional()
          .describe(
            "What the CSIDriver object's spec.volumeLifecycleModes must be: Persistent (PersistentVolumes) and/or Ephemeral (CSI inline volumes in pods). Omit it to leave it unchecked. Example: [Persistent].",
          ),
        storageCapacity: z
          .boolean()
          .optional()
          .describe(
            "What the CSIDriver object's spec.storageCapacity must be: true if the scheduler is to take the driver's CSIStorageCapacity objects into account (WaitForFirstConsumer classes), as a driver with the capacity capability wants. Omit it to leave it unchecked.",
          ),
      })
      .strict()
      .default({})
      .describe(
        "What the installed CSIDriver object must say; IN-02 compares each given field with the cluster's object and shows both values on a mismatch. Default: nothing checked.",
      ),
  })
  .strict();

/**
 * Where every node sees the shared storage spec.cluster.sharedStorage asks for. The kind provider
 * mounts it there (clusters/kind/state.ts SHARED_STORAGE_NODE_PATH; a unit test keeps the two equal).
 */
export const SHARED_STORAGE_PATH = "/var/lib/volcert-netstore";

/** Cluster components and node setup a driver needs beyond Kubernetes itself (harness/drivers/cluster-needs.ts). */
const ClusterNeeds = z
  .object({
    sharedStorage: z
      .boolean()
      .optional()
      .describe(
        `The driver's backend is storage every node shares, as a SAN or NAS is: each cluster volcert creates for a run with this driver gets one host directory of its own, mounted into every node (control plane and workers) at ${SHARED_STORAGE_PATH}, created with the cluster and removed with it (loop devices backed by its files are detached first). Put the driver's data in a directory of its own below it, so several drivers can share a cluster. A reused cluster (--reuse) must have been created with it; an existing cluster (--kubeconfig) must provide that directory on every node itself. Default: false.`,
      ),
    volumeSnapshots: z
      .boolean()
      .optional()
      .describe(
        "The driver needs the VolumeSnapshot API (snapshot.storage.k8s.io), which a cluster provides, not a driver: volcert installs the VolumeSnapshot, VolumeSnapshotContent and VolumeSnapshotClass CRDs and a snapshot-controller (built from external-snapshotter, the release versions.yaml names) into every cluster it creates or reuses for a run with this driver, before installing the driver, and leaves them there for the cluster's life. The driver's manifests then must not carry those CRDs or a snapshot-controller of their own. An existing cluster (--kubeconfig) must serve the API itself. Only for spec.type csi. Default: false.",
      ),
  })
  .strict();

/** A --set key: dotted path segments, each optionally indexed (a.b[0].c). */
const HELM_SET_KEY = /^[A-Za-z0-9_-]+(\[\d+\])*(\.[A-Za-z0-9_-]+(\[\d+\])*)*$/;

const Helm = z
  .object({
    chart: relPath.describe(
      "The Helm chart that installs the driver, relative to the driver file: a chart directory (with Chart.yaml, apiVersion v2) or a packaged chart (.tgz). It must lie inside the driver's directory tree, and its dependencies must be vendored in its charts/ directory: volcert has no chart repository to fetch from. Example: chart.",
    ),
    release: dnsLabel
      .max(53, tooLong("a Helm release name", 53))
      .describe(
        "The Helm release name (a DNS label, at most 53 characters: Helm's own limit). volcert installs with helm upgrade --install, so a release of this name left by an earlier run in the same namespace is upgraded, not duplicated. Example: acme-csi.",
      ),
    namespace: dnsLabel.describe(
      "The namespace the release is installed into (helm --namespace; a DNS label). Objects the chart leaves without a namespace land here. Example: acme-system.",
    ),
    values: z
      .array(relPath)
      .default([])
      .describe(
        "Value files (YAML mappings) passed to Helm in this order (helm --values; later files win), relative to the driver file and inside its directory tree. Default: none (the chart's own values.yaml). Example: [values-volcert.yaml].",
      ),
    set: z
      .record(
        z
          .string()
          .regex(
            HELM_SET_KEY,
            "expected a value path such as image.tag or args[0] (letters, digits, '_' and '-', separated by '.', with optional [N] indexes); put keys with other characters in a value file",
          ),
        z.union([
          z.string().describe("A string, passed as a string (quote it in YAML if it looks like a number or boolean)."),
          z.number().describe("A number."),
          z.boolean().describe("A boolean."),
        ]),
      )
      .default({})
      .describe(
        'Single values that override the value files (helm --set-json, so a YAML string stays a string and a number or boolean keeps its type), value path → value. Default: none. Example: { node.logLevel: 5, image.tag: "1.4.2" }.',
      ),
    createNamespace: z
      .boolean()
      .default(true)
      .describe(
        "Whether volcert creates the release namespace if it does not exist (labelled as the driver's, and deleted on uninstall: Helm's own --create-namespace never deletes what it created). With false the namespace must exist before the install. A namespace that exists already is used as it is and never deleted. The chart must not define the release namespace itself (Helm stores the release in it before creating anything). Default: true.",
      ),
  })
  .strict();

const timeoutField = (k: TimeoutKey) =>
  duration.optional().meta({
    description: `${TIMEOUT_DOCS[k]} A duration such as 90s, 5m or 1h30m (units ms, s, m, h), more than 0 and at most ${formatDuration(MAX_TIMEOUT_MS)}; multiplied by spec.timeoutMultiplier. Default: ${formatDuration(DEFAULT_TIMEOUTS_MS[k])}.`,
    default: formatDuration(DEFAULT_TIMEOUTS_MS[k]),
  });

export const DriverSpecSchema = z
  .object({
    type: z
      .enum(["in-tree", "flexvolume", "csi"])
      .describe(
        "The kind of driver, and so which section describes it: in-tree (spec.inTree: a volume plugin built into Kubernetes; volcert creates static PVs), flexvolume (spec.flexVolume: an executable volcert installs on every node), or csi (spec.csi: manifests volcert applies, or a Helm chart in spec.helm). Exactly that section must be present.",
      ),
    inTree: InTree.optional().describe(
      "The in-tree plugin; required when spec.type is in-tree, not allowed otherwise.",
    ),
    flexVolume: FlexVolume.optional().describe(
      "The FlexVolume driver; required when spec.type is flexvolume, not allowed otherwise.",
    ),
    csi: Csi.optional().describe("The CSI driver; required when spec.type is csi, not allowed otherwise."),
    helm: Helm.optional().describe(
      "Install the CSI driver from a Helm chart (helm upgrade --install, a real release with hooks) instead of spec.csi.manifests; only with spec.type csi, which still names the node plugin, the controller and what to expect. volcert renders the chart first (helm template) to list its images and cross-check it like manifests, loads the images into the nodes, installs without Helm's --wait, and waits itself (workloads ready, CSINode registration). Uninstalling is helm uninstall --wait.",
    ),
    cluster: ClusterNeeds.default({}).describe(
      "What the driver needs from the cluster beyond Kubernetes itself, which volcert sets up for it: shared storage on every node, the VolumeSnapshot API. Default: nothing.",
    ),
    storageClasses: z
      .array(StorageClassSpec)
      .default([])
      .describe(
        "StorageClasses for dynamic provisioning, created when volcert installs a CSI driver and deleted on uninstall. Dynamic cases (DP-01..11, RP-01, RP-02, RP-05, NF-09, NF-11) need at least one and clone the first under the case's own name; with none they are skipped. Names must be unique. Default: none.",
      ),
    capabilities: Capabilities.default({}).describe(
      "What the driver supports, with Kubernetes' storage test framework Capability names (a storage.testdriver file's DriverInfo.Capabilities copies over as is). A case that needs a capability the driver does not declare true is skipped with that reason, never run to a vacuous pass. Unknown keys are errors (a typo would silently disable tests). Default: none declared.",
    ),
    /**
     * Node paths holding a provisioned volume's data ({volumeHandle}, {pv}). After a volume is
     * deleted volcert checks every node for them (RP-01, RP-05, DP-07 and the leak check), so a
     * driver that only deletes the API object is caught.
     */
    volumeDataPaths: z
      .array(nodePathTemplate(VOLUME_DATA_PLACEHOLDERS, "the data-deletion check would look at"))
      .default([])
      .describe(
        "Node paths holding a provisioned volume's data. After a volume is deleted volcert checks every node for them (DP-07, RP-01, RP-02, RP-05, NF-11, and the leak check after every dynamic case), so a driver that deletes only the API object is caught; cases that need them are skipped when the list is empty. Each path must contain {volumeHandle} or {pv}, no other placeholder, no '..', and may not be a system directory once the placeholders are empty. Default: none. Example: [/var/lib/acme-csi/{volumeHandle}].",
      ),
    supportedFsTypes: z
      .array(z.string())
      .default([""])
      .describe(
        'Filesystem types the driver can create, "" meaning its default. DP-04 provisions one volume per non-empty entry (StorageClass parameter csi.storage.k8s.io/fstype) and checks the pod\'s mount has exactly that type, and is skipped without one; FlexVolume PVs use the first non-empty entry (else ext4). Default: [""]. Example: [ext4, xfs].',
      ),
    supportedMountOptions: z
      .array(z.string())
      .default([])
      .describe(
        "Mount options the driver honours. DP-05 sets them all as a StorageClass's mountOptions and checks each appears in the pod's mount; it is skipped when the list is empty. Default: none. Example: [noatime, nosuid].",
      ),
    accessModes: z
      .array(accessMode)
      .default(["ReadWriteOnce"])
      .describe(
        "Access modes the driver offers (upstream RequiredAccessModes). AM-04 needs ReadWriteMany, AM-06 ReadOnlyMany and AM-07 ReadWriteOncePod here (with the matching capability); values: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod. Default: [ReadWriteOnce].",
      ),
    sizeRange: z
      .object({
        min: quantity
          .default("1Mi")
          .describe(
            "Smallest volume the driver provisions, a Kubernetes quantity (Ki, Mi, Gi, Ti, Pi binary; k, M, G, T, P decimal). DP-06 claims exactly this size and expects a volume at least as large. Default: 1Mi. Example: 1Gi.",
          ),
        max: quantity
          .optional()
          .describe(
            "Largest volume the driver provisions, a Kubernetes quantity; must not be smaller than min. Not used by cases yet. Default: no limit. Example: 16Ti.",
          ),
      })
      .strict()
      .superRefine((r, ctx) => {
        const min = quantityToBytes(r.min);
        const max = r.max === undefined ? null : quantityToBytes(r.max);
        if (min !== null && max !== null && max < min)
          ctx.addIssue({
            code: "custom",
            path: ["max"],
            message: `must not be smaller than sizeRange.min: max ${r.max} is ${max} bytes, min ${r.min} is ${min} bytes`,
          });
      })
      .default({ min: "1Mi" })
      .describe("Volume sizes the driver supports (upstream SupportedSizeRange). Default: min 1Mi, no max."),
    timeouts: z
      .object(
        Object.fromEntries(TIMEOUT_KEYS.map((k) => [k, timeoutField(k)])) as Record<
          TimeoutKey,
          z.ZodOptional<typeof duration>
        >,
      )
      .strict()
      .default({})
      .describe(
        "Per-operation timeouts overriding volcert's defaults, each multiplied by timeoutMultiplier; every case's time budget is derived from them (harness/case/budget.ts). Default: volcert's defaults, given per field.",
      ),
    /** Multiplies every timeout (slow backends). */
    timeoutMultiplier: z
      .number()
      .positive()
      .max(20)
      .default(1)
      .describe(
        "Multiplies every timeout, and every hold window ('must stay so for N seconds'), for slow backends. More than 0, at most 20. Default: 1. Example: 2.5.",
      ),
    /** Why this driver cannot be exercised on this machine at all (e.g. no NFS in the kernel). */
    unsupportedHere: z
      .string()
      .optional()
      .describe(
        "Why this driver cannot be exercised on this machine at all; when set, every case is skipped with this reason. Example: no NFS client in this kernel.",
      ),
  })
  .strict();

export const DriverFileSchema = z
  .object({
    apiVersion: z
      .literal("volcert.io/v1alpha1")
      .describe("Version of the driver file format; always volcert.io/v1alpha1."),
    kind: z.literal("Driver").describe("Always Driver."),
    metadata: z
      .object({
        name: dnsLabel.describe(
          "The driver's name (a DNS label: lowercase letters, digits and '-', at most 63 characters). Reports, skip reasons and the volcert.io/driver label on the StorageClasses volcert creates use it; under fixtures/drivers it must equal the directory name, which --driver selects. Example: acme-csi.",
        ),
        version: z
          .string()
          .optional()
          .describe(
            "The version of the driver under test, free text for people; volcert does not interpret it. Example: 1.4.2.",
          ),
        description: z
          .string()
          .optional()
          .describe(
            "One line about the driver, for people. volcert's own deliberately broken self-test fixtures start it with BROKEN (harness/drivers/fixtures.ts); do not start a real driver's description with that word.",
          ),
      })
      .strict()
      .describe("Who the driver is."),
    spec: DriverSpecSchema.describe(
      "What the driver is, how volcert installs it, and what it claims to support (capabilities, access modes, file systems, sizes, timeouts).",
    ),
  })
  .strict()
  .describe(
    "A volcert driver definition: one storage driver (in-tree, FlexVolume or CSI) to install and test. Unknown keys are errors.",
  )
  .superRefine((d, ctx) => {
    const helm = d.spec.helm;
    if (d.spec.csi && (d.spec.csi.manifests.length || helm) && !d.spec.csi.node) {
      ctx.addIssue({
        code: "custom",
        path: ["spec", "csi", "node"],
        message: `required when volcert installs the driver (${helm ? "spec.helm" : "spec.csi.manifests"}): name the node plugin workload, e.g. { kind: DaemonSet, name: acme-node, namespace: acme-system }`,
      });
    }
    if (helm && d.spec.type !== "csi") {
      ctx.addIssue({
        code: "custom",
        path: ["spec", "helm"],
        message: `a Helm chart installs a CSI driver: spec.type must be "csi" (it is "${d.spec.type}"), with spec.csi naming the driver and its workloads`,
      });
    }
    if (helm && d.spec.csi?.manifests.length) {
      ctx.addIssue({
        code: "custom",
        path: ["spec", "csi", "manifests"],
        message:
          "give either spec.csi.manifests or spec.helm, not both: each installs the driver on its own (leave manifests out for a chart)",
      });
    }
    const section = { "in-tree": "inTree", flexvolume: "flexVolume", csi: "csi" } as const;
    const need = section[d.spec.type];
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
    if (d.spec.cluster.volumeSnapshots && d.spec.type !== "csi")
      ctx.addIssue({
        code: "custom",
        path: ["spec", "cluster", "volumeSnapshots"],
        message: `VolumeSnapshots are taken by CSI drivers: spec.type is "${d.spec.type}", so the VolumeSnapshot API would serve nothing`,
      });
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
