import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DRIVERS_DIR } from "./fixtures.ts";
import { loadDriverFile } from "./load.ts";
import { readManifests, rewriteImages, unusedRewrites } from "./csi-manifests.ts";

describe("CSI manifests", () => {
  test("the reference CSI driver's manifests load, and the provisioner image is rewritten to the local build", async () => {
    const { definition: d, baseDir } = await loadDriverFile(join(DRIVERS_DIR, "csi-hostpath", "driver.yaml"));
    const objects = await readManifests(d, baseDir);
    expect(objects.map((o) => o.kind)).toEqual([
      "ClusterRole",
      "Namespace",
      "ServiceAccount",
      "ClusterRoleBinding",
      "CSIDriver",
      "DaemonSet",
    ]);
    expect(unusedRewrites(objects, d.spec.csi!.imageRewrites)).toEqual([]);
    const { images, rewritten } = rewriteImages(objects, d.spec.csi!.imageRewrites);
    expect(images).toEqual(["volcert/csi-hostpath:0.1.0", "volcert/csi-provisioner:v6.3.0"]);
    expect(rewritten).toEqual([
      "DaemonSet/csi-hostpath-node csi-provisioner: registry.k8s.io/sig-storage/csi-provisioner:v6.3.0 → volcert/csi-provisioner:v6.3.0",
    ]);
  });

  test("a rewrite that matches no image is reported", () => {
    const objects: {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: { template: { spec: { containers: { name: string; image: string; imagePullPolicy?: string }[] } } };
    }[] = [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "c" },
        spec: { template: { spec: { containers: [{ name: "x", image: "a:1" }] } } },
      },
    ];
    expect(unusedRewrites(objects, { "a:1": "b:1", "typo:1": "c:1" })).toEqual(["typo:1"]);
    const { images } = rewriteImages(objects, { "a:1": "b:1" });
    expect(images).toEqual(["b:1"]);
    expect(objects[0]!.spec.template.spec.containers[0]!.imagePullPolicy).toBe("IfNotPresent");
  });
});
