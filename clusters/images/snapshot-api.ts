/**
 * The VolumeSnapshot API volcert installs into a cluster for drivers that ask for it
 * (spec.cluster.volumeSnapshots): the snapshot.storage.k8s.io CRDs and a snapshot-controller. A
 * cluster provides this API, not a driver (several drivers share it, and deleting the CRDs with
 * one driver would delete every VolumeSnapshot), so it is installed once per cluster, before the
 * drivers, and never removed while the cluster lives.
 *
 * Nothing of it is copied into this repository. The build step `snapshot-api` takes the CRDs and
 * the controller's RBAC from the module zips of the external-snapshotter release volcert builds
 * (checksum-verified by the go command): the CRDs from `client/v8` at the version the wrapper
 * module gomod/csi compiles the controller against, the RBAC from `v8`. The controller's own
 * Deployment is ours (upstream's runs two replicas with leader election and names another tag).
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../../harness/core/errors.ts";
import { exec } from "../../harness/core/exec.ts";
import { goEnv } from "./go.ts";
import type { Manifest } from "./manifest.ts";
import { imageNames } from "./manifest.ts";

export const SNAPSHOTTER_MODULE = "github.com/kubernetes-csi/external-snapshotter/v8";
export const SNAPSHOT_CLIENT_MODULE = "github.com/kubernetes-csi/external-snapshotter/client/v8";

/** The files taken from the module zips: module → paths in it. Only the v1 snapshot CRDs: group snapshots stay off. */
export const SNAPSHOT_API_FILES: Readonly<Record<string, readonly string[]>> = {
  [SNAPSHOT_CLIENT_MODULE]: [
    "config/crd/snapshot.storage.k8s.io_volumesnapshotclasses.yaml",
    "config/crd/snapshot.storage.k8s.io_volumesnapshotcontents.yaml",
    "config/crd/snapshot.storage.k8s.io_volumesnapshots.yaml",
  ],
  [SNAPSHOTTER_MODULE]: ["deploy/kubernetes/snapshot-controller/rbac-snapshot-controller.yaml"],
};

export const SNAPSHOT_CRDS = [
  "volumesnapshotclasses.snapshot.storage.k8s.io",
  "volumesnapshotcontents.snapshot.storage.k8s.io",
  "volumesnapshots.snapshot.storage.k8s.io",
] as const;

/** Where the controller runs, and the service account upstream's RBAC binds (checked when read). */
export const SNAPSHOT_CONTROLLER = { namespace: "kube-system", name: "snapshot-controller" } as const;

/** `go mod download -json module@version` (outside any module): the verified module's directory. */
async function moduleDir(module: string, version: string, logFile: string, cwd: string): Promise<string> {
  const r = await exec("go", ["mod", "download", "-json", `${module}@${version}`], {
    cwd,
    env: goEnv(),
    timeoutMs: 10 * 60_000,
    logFile,
  });
  return (JSON.parse(r.stdout) as { Dir: string }).Dir;
}

/**
 * The build step: copies SNAPSHOT_API_FILES out of the module cache into `outDir` (same relative
 * paths, under one directory per module) and records where they came from in `sources.json`.
 */
export async function extractSnapshotApi(
  versions: Readonly<Record<string, string>>,
  outDir: string,
  logFile: string,
): Promise<void> {
  const sources: Record<string, string> = {};
  for (const [module, files] of Object.entries(SNAPSHOT_API_FILES)) {
    const version = versions[module];
    if (!version) throw new ConfigError(`no version of ${module} to take the VolumeSnapshot API from`);
    const dir = await moduleDir(module, version, logFile, outDir);
    sources[module] = version;
    for (const f of files) {
      const to = join(outDir, moduleKey(module), f);
      await mkdir(dirname(to), { recursive: true });
      await copyFile(join(dir, f), to);
    }
  }
  await writeFile(join(outDir, "sources.json"), `${JSON.stringify(sources, null, 2)}\n`);
}

/** "github.com/kubernetes-csi/external-snapshotter/client/v8" → "external-snapshotter-client-v8". */
function moduleKey(module: string): string {
  return module.split("/").slice(2).join("-");
}

export type ApiObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
};

export interface SnapshotApi {
  /** The CRDs, applied first and waited for (Established). */
  crds: ApiObject[];
  /** The controller: upstream's RBAC, then our Deployment. */
  controller: ApiObject[];
  /** The images the controller runs (loaded into the nodes). */
  images: string[];
}

/** Reads the step's output (`dir`) into the objects to apply, checking they are what they should be. */
export async function readSnapshotApi(dir: string, m: Manifest): Promise<SnapshotApi> {
  const read = async (module: string, file: string) => {
    const path = join(dir, moduleKey(module), file);
    return parseAllDocuments(await readFile(path, "utf8"))
      .map((d) => d.toJS() as ApiObject | null)
      .filter((o): o is ApiObject => !!o);
  };
  const crds: ApiObject[] = [];
  for (const f of SNAPSHOT_API_FILES[SNAPSHOT_CLIENT_MODULE] ?? [])
    crds.push(...(await read(SNAPSHOT_CLIENT_MODULE, f)));
  const rbac: ApiObject[] = [];
  for (const f of SNAPSHOT_API_FILES[SNAPSHOTTER_MODULE] ?? []) rbac.push(...(await read(SNAPSHOTTER_MODULE, f)));
  const problems = snapshotApiProblems(crds, rbac);
  if (problems.length)
    throw new ConfigError(`the VolumeSnapshot API files in ${dir} are not what volcert expects`, problems);
  const image = imageNames(m).snapshotController;
  return { crds, controller: [...rbac, snapshotControllerDeployment(image)], images: [image] };
}

/** What the files must hold: exactly the three v1 CRDs, and RBAC for the controller's service account. */
export function snapshotApiProblems(crds: readonly ApiObject[], rbac: readonly ApiObject[]): string[] {
  const problems: string[] = [];
  const names = crds.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
  const want = SNAPSHOT_CRDS.map((n) => `CustomResourceDefinition/${n}`);
  if (JSON.stringify(names) !== JSON.stringify(want))
    problems.push(`CRD files hold ${names.join(", ") || "nothing"}, not ${want.join(", ")}`);
  const sa = rbac.find((o) => o.kind === "ServiceAccount");
  if (sa?.metadata?.name !== SNAPSHOT_CONTROLLER.name || sa.metadata.namespace !== SNAPSHOT_CONTROLLER.namespace)
    problems.push(
      `the controller's RBAC has no ServiceAccount ${SNAPSHOT_CONTROLLER.namespace}/${SNAPSHOT_CONTROLLER.name} (found ${sa ? `${sa.metadata?.namespace}/${sa.metadata?.name}` : "none"})`,
    );
  if (!rbac.some((o) => o.kind === "ClusterRoleBinding")) problems.push("the controller's RBAC binds no ClusterRole");
  const strays = rbac.filter(
    (o) => !["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"].includes(o.kind ?? ""),
  );
  for (const o of strays) problems.push(`the controller's RBAC file also holds ${o.kind}/${o.metadata?.name}`);
  return problems;
}

/**
 * One replica, no leader election (one controller per cluster, and a test cluster needs no
 * standby), on the control-plane node: the chaos cases stop and partition workers only, and the
 * controller must not be what a case's fault takes away.
 */
export function snapshotControllerDeployment(image: string): ApiObject {
  const labels = { "app.kubernetes.io/name": SNAPSHOT_CONTROLLER.name, "app.kubernetes.io/managed-by": "volcert" };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: SNAPSHOT_CONTROLLER.name, namespace: SNAPSHOT_CONTROLLER.namespace, labels },
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { "app.kubernetes.io/name": SNAPSHOT_CONTROLLER.name } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: SNAPSHOT_CONTROLLER.name,
          nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
          tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
          containers: [
            {
              name: SNAPSHOT_CONTROLLER.name,
              image,
              imagePullPolicy: "IfNotPresent",
              args: ["--v=3", "--leader-election=false"],
            },
          ],
        },
      },
    },
  };
}
