import { describe, expect, test } from "vitest";
import { clusterNeeds } from "./cluster-needs.ts";
import { snapshotApiCheck } from "./consistency.ts";
import type { K8sObject } from "./csi-manifests.ts";
import { parseDriverText } from "./load.ts";
import { controllerWorkload, crdEstablished } from "./snapshot-api.ts";

const driver = (name: string, extra = "") =>
  parseDriverText(
    `
apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: ${name} }
spec:
  type: csi
  csi: { driverName: ${name}.csi.example.com }
${extra}`,
    "driver.yaml",
  ).definition;

const snapshotCrd: K8sObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "volumesnapshots.snapshot.storage.k8s.io" },
};
const controller: K8sObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "snapshot-controller", namespace: "acme" },
  spec: {
    template: {
      spec: { containers: [{ name: "c", image: "registry.k8s.io/sig-storage/snapshot-controller:v8.3.0" }] },
    },
  },
};

describe("what a cluster must provide for its drivers", () => {
  test("the union over the drivers installed there, with who asks", () => {
    const netstore = driver("netstore", "  cluster: { sharedStorage: true, volumeSnapshots: true }");
    const shared = driver("shared", "  cluster: { sharedStorage: true, volumeSnapshots: false }");
    const plain = driver("plain");
    expect(clusterNeeds([plain])).toEqual({ sharedStorage: [], volumeSnapshots: [] });
    expect(clusterNeeds([netstore, shared, plain])).toEqual({
      sharedStorage: ["netstore", "shared"],
      volumeSnapshots: ["netstore"],
    });
  });

  test("with the VolumeSnapshot API volcert's, manifests bringing CRDs or a controller of their own are refused", () => {
    const d = driver("acme", "  cluster: { volumeSnapshots: true }");
    expect(snapshotApiCheck(d, [])).toEqual({ problems: [], notes: [] });
    expect(snapshotApiCheck(d, [snapshotCrd, controller]).problems).toEqual([
      "CustomResourceDefinition volumesnapshots.snapshot.storage.k8s.io: volcert installs the VolumeSnapshot CRDs itself (spec.cluster.volumeSnapshots): remove it from the manifests, or set volumeSnapshots false to bring your own",
      "Deployment acme/snapshot-controller runs a snapshot-controller, and volcert runs one itself (spec.cluster.volumeSnapshots): remove it from the manifests, or set volumeSnapshots false to bring your own",
    ]);
  });

  test("a driver that takes snapshots with no API in sight gets a note, not a problem", () => {
    const d = driver("acme", "  capabilities: { snapshotDataSource: true }");
    expect(snapshotApiCheck(d, []).notes).toEqual([
      "the driver takes snapshots, but neither its manifests nor spec.cluster.volumeSnapshots provide the VolumeSnapshot API: the cluster must serve it already (set spec.cluster.volumeSnapshots: true to have volcert install it)",
    ]);
    expect(snapshotApiCheck(d, [snapshotCrd, controller])).toEqual({ problems: [], notes: [] });
    expect(snapshotApiCheck(driver("plain"), [])).toEqual({ problems: [], notes: [] });
  });

  test("a CRD is served once the API server says Established", () => {
    const withStatus = (status: string) => ({
      ...snapshotCrd,
      status: {
        conditions: [
          { type: "NamesAccepted", status: "True" },
          { type: "Established", status },
        ],
      },
    });
    expect(crdEstablished(withStatus("True"))).toBe(true);
    expect(crdEstablished(withStatus("False"))).toBe(false);
    expect(crdEstablished(snapshotCrd)).toBe(false);
    expect(crdEstablished(undefined)).toBe(false);
  });

  test("the install waits for the one controller Deployment", () => {
    expect(controllerWorkload([snapshotCrd, controller])).toEqual({ name: "snapshot-controller", namespace: "acme" });
    expect(() => controllerWorkload([snapshotCrd])).toThrow(/one namespaced Deployment/);
  });
});
