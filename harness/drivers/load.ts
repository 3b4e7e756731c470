/**
 * Driver definition files: read → parse (YAML) → validate (every problem at once, with the
 * closest valid key for typos) → check referenced files exist. Nothing touches a cluster before
 * this has succeeded.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../core/errors.ts";
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
  if (isUpstreamFormat(doc)) {
    const r = UpstreamTestDriverSchema.safeParse(doc);
    if (!r.success)
      throw new ConfigError(
        `${source}: invalid storage.testdriver file`,
        describeIssues(UpstreamTestDriverSchema, r.error.issues),
      );
    const { driver, notes } = fromUpstream(r.data);
    return { definition: driver, format: "upstream", notes };
  }
  const r = DriverFileSchema.safeParse(doc);
  if (!r.success)
    throw new ConfigError(`${source}: invalid driver definition`, describeIssues(DriverFileSchema, r.error.issues));
  return { definition: r.data, format: "volcert", notes: [] };
}

/** Relative paths a definition points at (manifests, executables, charts). */
export function referencedFiles(d: DriverFile): string[] {
  return [...(d.spec.csi?.manifests ?? []), ...(d.spec.flexVolume ? [d.spec.flexVolume.executable] : [])];
}

export async function loadDriverFile(path: string): Promise<LoadedDriver> {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError(`driver file ${file} does not exist`);
  const { definition, format, notes } = parseDriverText(await readFile(file, "utf8"), file);
  const baseDir = dirname(file);
  if (format === "volcert") {
    const missing = referencedFiles(definition).filter((p) => !existsSync(resolve(baseDir, p)));
    if (missing.length)
      throw new ConfigError(
        `${file}: referenced files do not exist`,
        missing.map((p) => `${p} (resolved to ${resolve(baseDir, p)})`),
      );
  }
  return { file, baseDir, definition, format, notes };
}
