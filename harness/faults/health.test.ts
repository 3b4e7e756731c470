import { describe, expect, test } from "vitest";
import { parseDriverText } from "../drivers/load.ts";
import { driverFootprint, ownedBy } from "./health.ts";

describe("what belongs to the driver under test (its failures after a fault are its own)", () => {
  const csi = parseDriverText(
    `apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: d }
spec:
  type: csi
  csi:
    driverName: x.csi.example.com
    manifests: [a.yaml]
    node: { kind: DaemonSet, name: x-node, namespace: kube-system }
    controller: { kind: Deployment, name: x-controller, namespace: kube-system }
`,
    "d.yaml",
  ).definition;

  test("a CSI driver's node plugin, controller and attacher name", () => {
    expect(driverFootprint(csi)).toEqual({
      workloads: ["kube-system/x-node", "kube-system/x-controller"],
      attacher: "x.csi.example.com",
    });
    expect(driverFootprint(undefined)).toEqual({ workloads: [] });
  });

  test("pods are the driver's when its workloads own them, directly or through a ReplicaSet", () => {
    const fp = driverFootprint(csi).workloads;
    expect(ownedBy("kube-system", [{ kind: "DaemonSet", name: "x-node" }], fp)).toBe(true);
    expect(ownedBy("kube-system", [{ kind: "ReplicaSet", name: "x-controller-7d9f8b6c5" }], fp)).toBe(true);
    expect(ownedBy("kube-system", [{ kind: "DaemonSet", name: "kube-proxy" }], fp)).toBe(false);
    expect(ownedBy("default", [{ kind: "DaemonSet", name: "x-node" }], fp)).toBe(false);
    expect(ownedBy("kube-system", undefined, fp)).toBe(false);
  });
});
