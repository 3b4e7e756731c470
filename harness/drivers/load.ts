/**
 * Driver definition files: read (regular files only, size-capped) → parse (YAML) → validate
 * (every problem at once, with the closest valid key for typos) → deep checks against the files
 * the definition points at (harness/drivers/consistency.ts). Nothing touches Docker or a cluster
 * before this has succeeded.
 */
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../core/errors.ts";
import { checkDriverFiles } from "./consistency.ts";
import type { K8sObject } from "./csi-manifests.ts";
import { driverFileOf, readTextFile } from "./read.ts";
import { DriverFileSchema, type DriverFile } from "./schema.ts";
import { fromUpstream, isUpstreamFormat, UpstreamTestDriverSchema } from "./upstream.ts";
import { describeIssues } from "./validate.ts";

export interface LoadedDriver {
  file: string;
  /** Directory relative paths in the definition are resolved against. */
  baseDir: string;
  definition: DriverFile;
  format: "volcert" | "upstream";
  notes: string[];
  /** Images the driver's workloads run, after imageRewrites (CSI). */
  images: string[];
  /** The driver's manifests, parsed (CSI). */
  objects: K8sObject[];
}

export function parseDriverText(
  text: string,
  source: string,
): { definition: DriverFile; format: LoadedDriver["format"]; notes: string[] } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML`, [(err as Error).message.split("\n")[0] ?? ""]);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(`${source}: not a driver definition`, [
      `the file holds ${doc === null || doc === undefined ? "nothing" : Array.isArray(doc) ? "a list" : `a ${typeof doc}`}, not a mapping with apiVersion, kind, metadata and spec (or an upstream DriverInfo)`,
    ]);
  }
  if (isUpstreamFormat(doc)) {
    const r = UpstreamTestDriverSchema.safeParse(doc);
    if (!r.success)
      throw new ConfigError(
        `${source}: invalid storage.testdriver file`,
        describeIssues(UpstreamTestDriverSchema, r.error.issues),
      );
    const { driver, notes, problems } = fromUpstream(r.data);
    // The mapped definition is validated again: upstream values volcert cannot use are named here.
    const again = DriverFileSchema.safeParse(driver);
    const all = [...problems, ...(again.success ? [] : describeIssues(DriverFileSchema, again.error.issues))];
    if (all.length || !again.success)
      throw new ConfigError(`${source}: this storage.testdriver file cannot be used`, all.length ? all : ["(unknown)"]);
    return { definition: again.data, format: "upstream", notes };
  }
  const r = DriverFileSchema.safeParse(doc);
  if (!r.success)
    throw new ConfigError(`${source}: invalid driver definition`, describeIssues(DriverFileSchema, r.error.issues));
  return { definition: r.data, format: "volcert", notes: [] };
}

/** The driver file and the files it references, as absolute paths. */
export function driverFilePaths(d: LoadedDriver): string[] {
  const spec = d.definition.spec;
  const refs = [...(spec.csi?.manifests ?? []), ...(spec.flexVolume ? [spec.flexVolume.executable] : [])];
  return [d.file, ...refs.map((r) => resolve(d.baseDir, r))];
}

/**
 * Loads a driver file (or a directory holding driver.yaml). Referenced files must resolve, after
 * symlinks, inside `root` (default: the driver file's own directory).
 */
export async function loadDriverFile(path: string, opts: { root?: string } = {}): Promise<LoadedDriver> {
  const file = resolve(await driverFileOf(resolve(path)));
  const { definition, format, notes } = parseDriverText(await readTextFile(file, "driver file"), file);
  const baseDir = dirname(file);
  if (format === "upstream") return { file, baseDir, definition, format, notes, images: [], objects: [] };
  const check = await checkDriverFiles(definition, baseDir, opts.root ?? baseDir);
  if (check.problems.length) throw new ConfigError(`${file}: the driver's files do not match it`, check.problems);
  return {
    file,
    baseDir,
    definition,
    format,
    notes: [...notes, ...check.notes],
    images: check.images,
    objects: check.objects,
  };
}
