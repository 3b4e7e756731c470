import { describe, expect, test } from "vitest";
import { loadManifest } from "./manifest.ts";
import { buildPlan } from "./plan.ts";
import { builtinImageRewrites, offeredSidecars } from "./sidecars.ts";

const m = loadManifest();

describe("built-in sidecar rewrites", () => {
  const table = builtinImageRewrites(m);

  test("map the upstream names of the releases built to the local images", () => {
    expect(table).toMatchObject({
      [`registry.k8s.io/sig-storage/csi-provisioner:${m.csi.provisioner}`]: `volcert/csi-provisioner:${m.csi.provisioner}`,
      [`registry.k8s.io/sig-storage/csi-attacher:${m.csi.attacher}`]: `volcert/csi-attacher:${m.csi.attacher}`,
      [`registry.k8s.io/sig-storage/csi-resizer:${m.csi.resizer}`]: `volcert/csi-resizer:${m.csi.resizer}`,
      [`registry.k8s.io/sig-storage/csi-snapshotter:${m.csi.snapshotter}`]: `volcert/csi-snapshotter:${m.csi.snapshotter}`,
      [`registry.k8s.io/sig-storage/snapshot-controller:${m.csi.snapshotter}`]: `volcert/snapshot-controller:${m.csi.snapshotter}`,
    });
    expect(table["registry.k8s.io/sig-storage/csi-attacher:v4.12.0"]).toBe("volcert/csi-attacher:v4.12.0");
  });

  test("map every upstream tag our stand-ins answer to, and nothing else of theirs", () => {
    const registrar = Object.entries(table).filter(([from]) => from.includes("/csi-node-driver-registrar:"));
    expect(registrar.map(([from]) => from.split(":")[1])).toEqual(m.csi.standIns.nodeDriverRegistrar);
    expect(new Set(registrar.map(([, to]) => to))).toEqual(
      new Set([`volcert/csi-node-driver-registrar:${m.volcert.csiSidecars}`]),
    );
    const probe = Object.entries(table).filter(([from]) => from.includes("/livenessprobe:"));
    expect(probe.map(([from]) => from.split(":")[1])).toEqual(m.csi.standIns.livenessprobe);
    expect(table["registry.k8s.io/sig-storage/livenessprobe:v2.20.0"]).toBe(
      `volcert/livenessprobe:${m.volcert.csiSidecars}`,
    );
  });

  test("never map to an upstream name: the engine's real images stay untouched", () => {
    for (const to of Object.values(table)) expect(to).toMatch(/^volcert\//);
  });

  test("every image offered is produced by the build step it names", () => {
    const plan = buildPlan(m);
    for (const s of offeredSidecars(m)) {
      const step = plan.find((p) => p.id === s.step);
      expect(step?.images, `${s.name} → ${s.step}`).toContain(s.image);
    }
  });
});
