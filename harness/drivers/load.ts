/**
 * Driver definition files: read (regular files only, size-capped) → parse (YAML) → validate
 * (every problem at once, with the closest valid key for typos) → deep checks against the files
 * the definition points at (harness/drivers/consistency.ts). Nothing touches Docker or a cluster
 * before this has succeeded.
 */
import { dirname, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { ConfigError } from "../core/errors.ts";
import { checkDriverFiles, type CheckOptions } from "./consistency.ts";
import type { K8sObject } from "./csi-manifests.ts";
import { chartFiles } from "./helm-chart.ts";
import { containedPath, driverFileOf, readTextFile } from "./read.ts";
import { DriverFileSchema, type DriverFile } from "./schema.ts";
import { classFromManifest, fromUpstream, isUpstreamFormat, UpstreamTestDriverSchema } from "./upstream.ts";
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
): { definition: DriverFile; format: LoadedDriver["format"]; notes: string[]; classFile?: string } {
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
    const { driver, notes, problems, classFile } = fromUpstream(r.data);
    // The mapped definition is validated again: upstream values volcert cannot use are named here.
    const again = DriverFileSchema.safeParse(driver);
    const all = [...problems, ...(again.success ? [] : describeIssues(DriverFileSchema, again.error.issues))];
    if (all.length || !again.success)
      throw new ConfigError(`${source}: this storage.testdriver file cannot be used`, all.length ? all : ["(unknown)"]);
    return { definition: again.data, format: "upstream", notes, ...(classFile ? { classFile } : {}) };
  }
  const r = DriverFileSchema.safeParse(doc);
  if (!r.success)
    throw new ConfigError(`${source}: invalid driver definition`, describeIssues(DriverFileSchema, r.error.issues));
  return { definition: r.data, format: "volcert", notes: [] };
}

/** Adds StorageClass.FromFile's class to a mapped upstream definition, validated again. */
async function withUpstreamClass(d: DriverFile, rel: string, baseDir: string, root: string): Promise<DriverFile> {
  const where = await containedPath(root, baseDir, rel);
  if (where.problem !== undefined) throw new ConfigError(`StorageClass.FromFile cannot be read`, [where.problem]);
  const text = await readTextFile(where.path, "StorageClass.FromFile");
  const docs = parseAllDocuments(text);
  const bad = docs.flatMap((doc) => doc.errors.map((e) => `${rel}: not valid YAML: ${e.message.split("\n")[0]}`));
  if (bad.length) throw new ConfigError("StorageClass.FromFile cannot be used", bad);
  const { storageClass, problems } = classFromManifest(
    docs.map((doc) => doc.toJS() as unknown),
    rel,
    d,
  );
  const again = DriverFileSchema.safeParse({
    ...d,
    spec: { ...d.spec, storageClasses: storageClass ? [storageClass] : [] },
  });
  const all = [...problems, ...(again.success ? [] : describeIssues(DriverFileSchema, again.error.issues))];
  if (all.length || !again.success) throw new ConfigError("StorageClass.FromFile cannot be used", all);
  return again.data;
}

/** The driver file and the files it references, as absolute paths. */
export function driverFilePaths(d: LoadedDriver): string[] {
  const spec = d.definition.spec;
  const refs = [
    ...(spec.csi?.manifests ?? []),
    ...(spec.flexVolume ? [spec.flexVolume.executable] : []),
    ...(spec.helm?.values ?? []),
  ];
  const chart = spec.helm ? chartFiles(resolve(d.baseDir, spec.helm.chart)) : [];
  return [d.file, ...refs.map((r) => resolve(d.baseDir, r)), ...chart];
}

/**
 * Loads a driver file (or a directory holding driver.yaml). Referenced files must resolve, after
 * symlinks, inside `root` (default: the driver file's own directory). `builtinRewrites` are the
 * sidecars volcert builds (consistency.ts CheckOptions); without them, the images are listed as
 * the driver's own rewrites leave them.
 */
export async function loadDriverFile(path: string, opts: { root?: string } & CheckOptions = {}): Promise<LoadedDriver> {
  const file = resolve(await driverFileOf(resolve(path)));
  const parsed = parseDriverText(await readTextFile(file, "driver file"), file);
  const { format, notes } = parsed;
  let definition = parsed.definition;
  const baseDir = dirname(file);
  if (format === "upstream") {
    if (parsed.classFile)
      definition = await withUpstreamClass(definition, parsed.classFile, baseDir, opts.root ?? baseDir);
    return { file, baseDir, definition, format, notes, images: [], objects: [] };
  }
  const check = await checkDriverFiles(definition, baseDir, opts.root ?? baseDir, opts);
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
