/**
 * Installs the drivers of a run into a cluster, by kind: in-tree needs nothing (volumes are static
 * PVs made per case); FlexVolume copies the executable to every node; CSI applies manifests and
 * loads images. Returns a disposable that uninstalls, in reverse order.
 */
import type { NodeShell } from "../core/nodes.ts";
import { DisposalFailed, type Disposal } from "../core/disposal.ts";
import type { Kube } from "../k8s/kube.ts";
import { installCsi, uninstallCsi } from "./csi.ts";
import { readManifests } from "./csi-manifests.ts";
import { installFlexVolume, uninstallFlexVolume } from "./flexvolume.ts";
import type { DriverFile } from "./schema.ts";

export interface InstalledDrivers extends AsyncDisposable {
  drivers: DriverFile[];
  /** Drivers that failed to install (only with InstallTarget.onFailure), their partial install removed. */
  failed: { driver: DriverFile; error: unknown }[];
}

/** Removes whatever a failed install left (objects applied before the failure, copied executables). */
async function removePartial(d: DriverFile, baseDir: string, target: InstallTarget): Promise<void> {
  if (d.spec.type === "flexvolume") await uninstallFlexVolume(d, target.nodes);
  else if (d.spec.type === "csi") await uninstallCsi(d, { objects: await readManifests(d, baseDir) }, target.kube);
}

export interface InstallTarget {
  kube: Kube;
  /** The nodes' shell (FlexVolume copies its executable into every node). */
  nodes: NodeShell;
  loadImages(images: readonly string[]): Promise<void>;
  /** The images loadImages cannot provide (kind: not in the local Docker engine). */
  missingImages?(images: readonly string[]): Promise<string[]>;
  /**
   * Isolates a driver that fails to install: called with its error before its partial install is
   * removed (so evidence can be gathered), then the next driver is installed. Without it, the
   * first failure uninstalls everything and is thrown.
   */
  onFailure?(driver: DriverFile, error: unknown): Promise<void>;
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
  const failed: InstalledDrivers["failed"] = [];
  const installOne = async (d: DriverFile, baseDir: string) => {
    if (d.spec.type === "flexvolume") {
      await installFlexVolume(d, baseDir, shell);
      undo.push({ driver: d, uninstall: () => uninstallFlexVolume(d, shell) });
    } else if (d.spec.type === "csi") {
      const done = await installCsi(d, baseDir, target);
      undo.push({ driver: d, uninstall: () => uninstallCsi(d, done, target.kube) });
    } else {
      undo.push({ driver: d, uninstall: async () => undefined });
    }
  };
  try {
    for (const { definition: d, baseDir } of drivers) {
      if (!target.onFailure) {
        await installOne(d, baseDir);
        continue;
      }
      try {
        await installOne(d, baseDir);
      } catch (error) {
        await target.onFailure(d, error);
        await removePartial(d, baseDir, target).catch((cleanup: unknown) => {
          if (error instanceof Error)
            error.message += `\n(and removing its partial install: ${cleanup instanceof Error ? cleanup.message : String(cleanup)})`;
        });
        failed.push({ driver: d, error });
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
    failed,
    [Symbol.asyncDispose]: uninstallAll,
  };
}
