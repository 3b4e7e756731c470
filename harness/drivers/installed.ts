/**
 * A driver that is already installed in the cluster (an upstream storage.testdriver file, a driver
 * file without manifests, or `--installed`): volcert tests it as it is. It never applies,
 * restarts or deletes anything of the driver; it waits until the driver is registered on every
 * node (CSINode) and creates its own test StorageClasses next to it. It refuses to touch a class
 * of the same name that it did not create. Undo deletes only those classes.
 */
import { ConfigError } from "../core/errors.ts";
import type { Kube } from "../k8s/kube.ts";
import { applyStorageClass, storageClassManifest } from "./csi.ts";
import { waitForCsiNodes } from "./csi-ready.ts";
import type { DriverFile } from "./schema.ts";
import { driverTimeout } from "./timeouts.ts";

const MANAGED_BY = "app.kubernetes.io/managed-by";

export async function adoptInstalled(d: DriverFile, kube: Kube): Promise<() => Promise<void>> {
  const csi = d.spec.csi;
  if (csi) await waitForCsiNodes(kube, csi.driverName, driverTimeout(d, "install"));
  const foreign: string[] = [];
  for (const sc of d.spec.storageClasses) {
    const existing = await kube.readIfExists("StorageClass", sc.name);
    if (existing && existing.metadata?.labels?.[MANAGED_BY] !== "volcert") foreign.push(sc.name);
  }
  if (foreign.length) {
    throw new ConfigError(
      `driver ${d.metadata.name}: the cluster already has StorageClasses volcert did not create with the names it would use`,
      foreign.map((n) => `StorageClass ${n}`),
      { fix: "rename spec.storageClasses in the driver file: volcert never changes objects it did not create" },
    );
  }
  for (const sc of d.spec.storageClasses) await applyStorageClass(kube, storageClassManifest(sc, d));
  return async () => {
    for (const sc of d.spec.storageClasses) await kube.deleteIfExists("StorageClass", sc.name);
  };
}
