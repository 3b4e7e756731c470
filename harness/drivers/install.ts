/**
 * Installs the drivers of a run into a cluster, by kind: in-tree needs nothing (volumes are static
 * PVs made per case); FlexVolume copies the executable to every node; CSI applies manifests and
 * loads images. Returns a disposable that uninstalls, in reverse order.
 */
import type { NodeShell } from "../core/nodes.ts";
import { DisposalFailed, type Disposal } from "../core/disposal.ts";
import type { Kube } from "../k8s/kube.ts";
import { installCsi, uninstallCsi } from "./csi.ts";
import { installFlexVolume, uninstallFlexVolume } from "./flexvolume.ts";
import type { DriverFile } from "./schema.ts";

export interface InstalledDrivers extends AsyncDisposable {
  drivers: DriverFile[];
}

export interface InstallTarget {
  kube: Kube;
  /** The nodes' shell (FlexVolume copies its executable into every node). */
  nodes: NodeShell;
  loadImages(images: readonly string[]): Promise<void>;
  /** The images loadImages cannot provide (kind: not in the local Docker engine). */
  missingImages?(images: readonly string[]): Promise<string[]>;
}

export async function installDrivers(
  drivers: readonly { definition: DriverFile; baseDir: string }[],
  target: InstallTarget,
): Promise<InstalledDrivers> {
  const undo: { driver: DriverFile; uninstall: () => Promise<void> }[] = [];
  /** Uninstalls everything (last installed first), each even if another failed; throws them all. */
  const uninstallAll = async () => {
    const failures: Disposal[] = [];
    for (const u of undo.splice(0).reverse()) {
      await u
        .uninstall()
        .catch((error: unknown) => failures.push({ name: `uninstall ${u.driver.metadata.name}`, error }));
    }
    if (failures.length) throw new DisposalFailed(failures);
  };
  const shell = target.nodes;
  try {
    for (const { definition: d, baseDir } of drivers) {
      if (d.spec.type === "flexvolume") {
        await installFlexVolume(d, baseDir, shell);
        undo.push({ driver: d, uninstall: () => uninstallFlexVolume(d, shell) });
      } else if (d.spec.type === "csi") {
        const done = await installCsi(d, baseDir, target);
        undo.push({ driver: d, uninstall: () => uninstallCsi(d, done, target.kube) });
      } else {
        undo.push({ driver: d, uninstall: async () => undefined });
      }
    }
  } catch (err) {
    // The install error is the verdict; an uninstall failure after it is added to its message.
    await uninstallAll().catch((cleanup: unknown) => {
      if (err instanceof Error)
        err.message += `\n(and cleaning up after it: ${cleanup instanceof Error ? cleanup.message : String(cleanup)})`;
    });
    throw err;
  }
  return {
    drivers: undo.map((u) => u.driver),
    [Symbol.asyncDispose]: uninstallAll,
  };
}
