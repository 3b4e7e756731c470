/**
 * Installs the drivers of a run into a cluster, by kind: in-tree needs nothing (volumes are static
 * PVs made per case); FlexVolume copies the executable to every node; CSI applies manifests and
 * loads images, or installs a Helm release (spec.helm, helm.ts). Returns a disposable that
 * uninstalls, in reverse order.
 */
import type { NodeShell } from "../core/nodes.ts";
import { currentSignal } from "../core/abort.ts";
import { DisposalFailed, type Disposal } from "../core/disposal.ts";
import type { Kube } from "../k8s/kube.ts";
import { installCsi, uninstallCsi } from "./csi.ts";
import { adoptInstalled } from "./installed.ts";
import { readManifests } from "./csi-manifests.ts";
import { installFlexVolume, uninstallFlexVolume } from "./flexvolume.ts";
import { installHelm, uninstallHelm } from "./helm.ts";
import type { DriverFile } from "./schema.ts";
import type { ImageTable } from "./builtin-images.ts";

export interface InstalledDrivers extends AsyncDisposable {
  drivers: DriverFile[];
  /** Drivers that failed to install (only with InstallTarget.onFailure), their partial install removed. */
  failed: { driver: DriverFile; error: unknown }[];
}

/** Removes the test StorageClasses volcert made for an installed driver (nothing of the driver itself). */
async function removeClasses(d: DriverFile, target: InstallTarget): Promise<void> {
  for (const sc of d.spec.storageClasses) await target.kube.deleteIfExists("StorageClass", sc.name);
}

/** Removes whatever a failed install left (objects applied before the failure, copied executables). */
async function removePartial(d: DriverFile, baseDir: string, target: InstallTarget): Promise<void> {
  if (d.spec.type === "flexvolume") await uninstallFlexVolume(d, target.nodes);
  // What a failed release left is Helm's to remove (and the namespace volcert made): no render needed.
  else if (d.spec.helm) await uninstallHelm(d, { objects: [] }, target);
  else if (d.spec.type === "csi") await uninstallCsi(d, { objects: await readManifests(d, baseDir) }, target.kube);
}

export interface InstallTarget {
  kube: Kube;
  /** The nodes' shell (FlexVolume copies its executable into every node). */
  nodes: NodeShell;
  loadImages(images: readonly string[]): Promise<void>;
  /** The images loadImages cannot provide (kind: not in the local Docker engine). */
  missingImages?(images: readonly string[]): Promise<string[]>;
  /** The sidecars volcert builds, upstream reference → local image (csi.ts CsiTarget). */
  builtinRewrites?: ImageTable;
  /** The helm binary (the toolchain's step go-helm), for drivers installed from a chart (spec.helm). */
  helm?: string;
  /**
   * Isolates a driver that fails to install: called with its error before its partial install is
   * removed (so evidence can be gathered), then the next driver is installed. Without it, the
   * first failure uninstalls everything and is thrown.
   */
  onFailure?(driver: DriverFile, error: unknown): Promise<void>;
}

/**
 * The run was stopped while drivers were being installed: what was installed, the interrupted
 * driver's partial install included, is `installed`, for the caller to remove under its cleanup
 * signal (removing it here would run under the aborted one, and a cluster volcert did not create
 * would keep a half-installed driver).
 */
export class InstallStopped extends Error {
  constructor(
    readonly error: unknown,
    readonly installed: InstalledDrivers,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

export async function installDrivers(
  drivers: readonly { definition: DriverFile; baseDir: string; installed?: boolean }[],
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
  const installOne = async (d: DriverFile, baseDir: string, installed: boolean | undefined) => {
    if (installed) {
      // Already in the cluster: tested as it is, never installed or uninstalled by volcert.
      undo.push({ driver: d, uninstall: await adoptInstalled(d, target.kube) });
    } else if (d.spec.type === "flexvolume") {
      await installFlexVolume(d, baseDir, shell);
      undo.push({ driver: d, uninstall: () => uninstallFlexVolume(d, shell) });
    } else if (d.spec.helm) {
      const done = await installHelm(d, baseDir, target);
      undo.push({ driver: d, uninstall: () => uninstallHelm(d, done, target) });
    } else if (d.spec.type === "csi") {
      const done = await installCsi(d, baseDir, target);
      undo.push({ driver: d, uninstall: () => uninstallCsi(d, done, target.kube) });
    } else {
      undo.push({ driver: d, uninstall: async () => undefined });
    }
  };
  const result = (): InstalledDrivers => ({
    drivers: undo.map((u) => u.driver),
    failed,
    [Symbol.asyncDispose]: uninstallAll,
  });
  const stopped = () => currentSignal()?.aborted === true;
  try {
    for (const { definition: d, baseDir, installed } of drivers) {
      // A driver that was already there keeps everything but volcert's classes.
      const undoOne = () => (installed ? removeClasses(d, target) : removePartial(d, baseDir, target));
      try {
        await installOne(d, baseDir, installed);
      } catch (error) {
        if (stopped()) {
          // Not the driver's failure: its partial install goes with the rest, under the caller's cleanup.
          undo.push({
            driver: d,
            uninstall: undoOne,
          });
          throw new InstallStopped(error, result());
        }
        if (!target.onFailure) throw error;
        await target.onFailure(d, error);
        await undoOne().catch((cleanup: unknown) => {
          if (error instanceof Error)
            error.message += `\n(and removing its partial install: ${cleanup instanceof Error ? cleanup.message : String(cleanup)})`;
        });
        failed.push({ driver: d, error });
      }
    }
  } catch (err) {
    if (err instanceof InstallStopped) throw err;
    // The install error is the verdict; an uninstall failure after it is added to its message.
    await uninstallAll().catch((cleanup: unknown) => {
      if (err instanceof Error)
        err.message += `\n(and cleaning up after it: ${cleanup instanceof Error ? cleanup.message : String(cleanup)})`;
    });
    throw err;
  }
  return result();
}
