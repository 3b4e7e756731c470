/**
 * Installs the drivers of a run into a cluster, by kind: in-tree needs nothing (volumes are static
 * PVs made per case); FlexVolume copies the executable to every node; CSI is not supported yet
 * (see the closing note of issue 3). Returns a disposable that uninstalls.
 */
import { ConfigError } from "../core/errors.ts";
import { installFlexVolume, uninstallFlexVolume } from "./flexvolume.ts";
import type { DriverFile } from "./schema.ts";

export interface InstalledDrivers extends AsyncDisposable {
  drivers: DriverFile[];
}

export async function installDrivers(drivers: readonly { definition: DriverFile; baseDir: string }[], nodes: readonly string[]): Promise<InstalledDrivers> {
  const unsupported = drivers.filter((d) => d.definition.spec.type === "csi");
  if (unsupported.length) {
    throw new ConfigError("CSI driver installation is not implemented yet", unsupported.map((d) => `${d.definition.metadata.name}: spec.type csi`));
  }
  const done: DriverFile[] = [];
  for (const d of drivers) {
    if (d.definition.spec.type === "flexvolume") await installFlexVolume(d.definition, d.baseDir, nodes);
    done.push(d.definition);
  }
  return {
    drivers: done,
    async [Symbol.asyncDispose]() {
      for (const d of done) await uninstallFlexVolume(d, nodes);
    },
  };
}
