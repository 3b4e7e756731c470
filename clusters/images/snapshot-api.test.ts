import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { imageNames, loadManifest } from "./manifest.ts";
import { requiredVersion } from "./plan.ts";
import {
  extractSnapshotApi,
  readSnapshotApi,
  SNAPSHOT_CLIENT_MODULE,
  SNAPSHOT_CONTROLLER,
  SNAPSHOT_CRDS,
  snapshotApiProblems,
  snapshotControllerDeployment,
  SNAPSHOTTER_MODULE,
  type ApiObject,
} from "./snapshot-api.ts";

const m = loadManifest();
const crd = (name: string): ApiObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name },
});
const rbac: ApiObject[] = [
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "snapshot-controller", namespace: "kube-system" } },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "snapshot-controller-runner" } },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "snapshot-controller-role" },
  },
];

describe("the VolumeSnapshot API volcert installs", () => {
  test("the controller is ours: one replica, no leader election, volcert's build, upstream's service account", () => {
    const d = snapshotControllerDeployment(imageNames(m).snapshotController) as {
      metadata: { namespace: string };
      spec: {
        replicas: number;
        template: {
          spec: {
            serviceAccountName: string;
            nodeSelector: Record<string, string>;
            containers: { image: string; args: string[] }[];
          };
        };
      };
    };
    expect(d.metadata.namespace).toBe(SNAPSHOT_CONTROLLER.namespace);
    expect(d.spec.replicas).toBe(1);
    const pod = d.spec.template.spec;
    expect(pod.serviceAccountName).toBe(SNAPSHOT_CONTROLLER.name);
    expect(pod.nodeSelector).toEqual({ "node-role.kubernetes.io/control-plane": "" });
    expect(pod.containers.map((c) => c.image)).toEqual([`volcert/snapshot-controller:${m.csi.snapshotter}`]);
    expect(pod.containers[0]?.args).toContain("--leader-election=false");
  });

  test("the files must hold the three v1 CRDs and RBAC for that service account, nothing else", () => {
    const crds = SNAPSHOT_CRDS.map(crd);
    expect(snapshotApiProblems(crds, rbac)).toEqual([]);
    expect(snapshotApiProblems([...crds, crd("volumegroupsnapshots.groupsnapshot.storage.k8s.io")], rbac)).toHaveLength(
      1,
    );
    expect(
      snapshotApiProblems(crds, [
        { ...rbac[0]!, metadata: { name: "snapshot-controller", namespace: "default" } },
        ...rbac.slice(1),
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } },
      ]),
    ).toEqual([
      "the controller's RBAC has no ServiceAccount kube-system/snapshot-controller (found default/snapshot-controller)",
      "the controller's RBAC file also holds Deployment/x",
    ]);
  });

  test("taken from the module zips of the release built (Go module proxy, checksums verified)", async () => {
    const gomod = readFileSync(new URL("./gomod/csi/go.mod", import.meta.url), "utf8");
    const client = requiredVersion(gomod, SNAPSHOT_CLIENT_MODULE);
    expect(client).toMatch(/^v8\.\d+\.\d+$/);
    const out = mkdtempSync(join(tmpdir(), "volcert-snapshot-api-"));
    try {
      await extractSnapshotApi(
        { [SNAPSHOTTER_MODULE]: m.csi.snapshotter, [SNAPSHOT_CLIENT_MODULE]: client! },
        out,
        join(out, "build.log"),
      );
      const api = await readSnapshotApi(out, m);
      expect(api.crds.map((c) => c.metadata?.name).sort()).toEqual([...SNAPSHOT_CRDS]);
      expect(api.controller.map((o) => o.kind)).toContain("ClusterRoleBinding");
      expect(api.controller.at(-1)?.kind).toBe("Deployment");
      expect(api.images).toEqual([imageNames(m).snapshotController]);
      expect(JSON.parse(readFileSync(join(out, "sources.json"), "utf8"))).toEqual({
        [SNAPSHOT_CLIENT_MODULE]: client,
        [SNAPSHOTTER_MODULE]: m.csi.snapshotter,
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
