import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { driverPreloads, imageNames, loadManifest } from "../../clusters/images/manifest.ts";
import { NODE_DRIVERS_STEP } from "../../clusters/images/plan.ts";
import { builtinImageRewrites } from "../../clusters/images/sidecars.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { DRIVERS_DIR } from "../drivers/fixtures.ts";
import { describeNodeImage, nodeImageFor } from "./environment.ts";

const m = loadManifest();
const n = imageNames(m);

describe("the node image a run's clusters start from", () => {
  test("the reference CSI drivers and the VolumeSnapshot API need exactly the images the variant preloads", async () => {
    const builtinRewrites = builtinImageRewrites(m);
    const images = new Set<string>([n.snapshotController]);
    for (const name of ["csi-hostpath", "csi-netstore"])
      for (const i of (await loadDriverFile(join(DRIVERS_DIR, name), { builtinRewrites })).images) images.add(i);
    // A driver that starts using another image makes the main job load it into every cluster again.
    expect([...images].sort()).toEqual([...driverPreloads(m)].sort());
    expect(nodeImageFor(m, [...images, "vendor/driver:1"])).toEqual({
      image: n.nodeDrivers,
      steps: [NODE_DRIVERS_STEP],
    });
  });

  test("a run needing only some of them starts from the plain node image and loads those", () => {
    expect(nodeImageFor(m, [n.csiHostpath, n.csiProvisioner])).toEqual({ image: n.node, steps: [] });
    expect(nodeImageFor(m, [])).toEqual({ image: n.node, steps: [] });
    expect(nodeImageFor(m, driverPreloads(m).slice(1))).toEqual({ image: n.node, steps: [] });
  });

  test("the report says what the clusters started from, and that an existing cluster is not ours", () => {
    expect(describeNodeImage(m, n.node, "created")).toBe(n.node);
    expect(describeNodeImage(m, n.nodeDrivers, "created")).toBe(
      `${n.nodeDrivers} (${n.node} with the reference drivers' images preloaded)`,
    );
    expect(describeNodeImage(m, n.node, "reused")).toMatch(/the reused cluster keeps its own/);
    expect(describeNodeImage(m, n.nodeDrivers, "existing")).toMatch(/^none: an existing cluster/);
  });
});
