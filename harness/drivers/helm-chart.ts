/**
 * Checks a driver's Helm chart and value files as files, before any Docker work and without the
 * helm binary (which may not be built yet): the chart and every file in it resolve inside the
 * driver's directory tree; Chart.yaml is what Helm 3 loads (apiVersion v2, a name, a SemVer
 * version, not a library chart); dependencies are vendored (there is no chart repository to fetch
 * from); value files are YAML mappings. Rendering and the cross-checks on the rendered objects
 * happen at install time (helm.ts).
 */
import { readdirSync, realpathSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { containedPath, readTextFile } from "./read.ts";
import type { DriverSpec } from "./schema.ts";

export type HelmSpec = NonNullable<DriverSpec["helm"]>;

/** More files than this in a chart directory is not a driver's chart (a wrong path, a home directory). */
const MAX_CHART_FILES = 2000;
/** Packaged charts are small; a big archive is not read. */
const MAX_CHART_ARCHIVE_BYTES = 16 * 1024 * 1024;
/** What Masterminds/semver (Helm's parser) accepts as a chart version. */
const SEMVER = /^v?\d+(\.\d+)?(\.\d+)?(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

export async function checkHelmFiles(
  helm: HelmSpec,
  baseDir: string,
  root: string,
): Promise<{ problems: string[]; notes: string[] }> {
  const problems: string[] = [];
  const where = await containedPath(root, baseDir, helm.chart);
  if (where.problem !== undefined) problems.push(`spec.helm.chart: ${where.problem}`);
  else problems.push(...(await checkChart(where.path, root)).map((p) => `spec.helm.chart: ${helm.chart}: ${p}`));
  for (const [i, rel] of helm.values.entries()) {
    const at = `spec.helm.values[${i}]`;
    const file = await containedPath(root, baseDir, rel);
    if (file.problem !== undefined) {
      problems.push(`${at}: ${file.problem}`);
      continue;
    }
    const text = await readTextFile(file.path, "value file").catch((e: Error) => e);
    if (text instanceof Error) problems.push(`${at}: ${text.message}`);
    else {
      const problem = mappingProblem(text);
      if (problem) problems.push(`${at}: ${rel}: ${problem}`);
    }
  }
  const notes = [
    "the chart's images and objects are known once it is rendered (helm template, at install time); they get the same checks as manifests then",
  ];
  return { problems, notes };
}

/** Why a value file is not a YAML mapping (empty is fine: Helm reads it as no values), or null. */
export function mappingProblem(text: string): string | null {
  let v: unknown;
  try {
    v = parse(text);
  } catch (err) {
    return `not valid YAML: ${(err as Error).message.split("\n")[0]}`;
  }
  if (v === null || v === undefined) return null;
  if (typeof v !== "object" || Array.isArray(v))
    return `holds ${Array.isArray(v) ? "a list" : `a ${typeof v}`}, not a mapping of values`;
  return null;
}

async function checkChart(path: string, root: string): Promise<string[]> {
  const s = await stat(path);
  if (s.isDirectory()) return checkChartDirectory(path, root);
  if (!s.isFile()) return ["is neither a chart directory nor a packaged chart (.tgz)"];
  if (!/\.(tgz|tar\.gz)$/.test(path)) return ["a file that is not a packaged chart: give a chart directory or a .tgz"];
  if (s.size > MAX_CHART_ARCHIVE_BYTES) return [`is ${s.size} bytes; at most ${MAX_CHART_ARCHIVE_BYTES} are read`];
  const fh = await open(path, "r");
  let data: Buffer;
  try {
    data = await fh.readFile();
  } finally {
    await fh.close();
  }
  let tar: Buffer;
  try {
    tar = gunzipSync(data, { maxOutputLength: 8 * MAX_CHART_ARCHIVE_BYTES });
  } catch (err) {
    return [`is not a gzip archive (${(err as Error).message}): package charts with helm package`];
  }
  const chartYaml = tarEntries(tar).find((e) => /^[^/]+\/Chart\.yaml$/.test(e.name));
  if (!chartYaml) return ["the archive has no <chart>/Chart.yaml: package charts with helm package"];
  return chartYamlProblems(chartYaml.data.toString("utf8"), "Chart.yaml in the archive");
}

async function checkChartDirectory(dir: string, root: string): Promise<string[]> {
  const problems: string[] = [];
  const files = await chartEntries(dir);
  if (files.length > MAX_CHART_FILES)
    return [`holds more than ${MAX_CHART_FILES} files: this is not a chart directory (check the path)`];
  // Helm follows symlinks: every file it would read must stay inside the driver's tree.
  for (const rel of files) {
    const at = await containedPath(root, dir, rel);
    if (at.problem !== undefined) problems.push(at.problem);
  }
  if (!files.includes("Chart.yaml")) return [...problems, "has no Chart.yaml: not a chart directory"];
  const text = await readTextFile(join(dir, "Chart.yaml"), "Chart.yaml").catch((e: Error) => e);
  if (text instanceof Error) return [...problems, text.message];
  problems.push(...chartYamlProblems(text, "Chart.yaml"));
  const deps = (parse(text) as { dependencies?: unknown } | null)?.dependencies;
  const vendored = files.filter((f) => f.startsWith("charts/")).map((f) => f.split("/")[1] ?? "");
  for (const dep of Array.isArray(deps) ? (deps as { name?: unknown }[]) : []) {
    const name = String(dep?.name ?? "");
    if (!vendored.some((v) => v === name || (v.startsWith(`${name}-`) && v.endsWith(".tgz"))))
      problems.push(
        `Chart.yaml: dependency ${name} is not vendored in charts/: run helm dependency build where a chart repository is reachable and keep charts/ with the chart (volcert has none to fetch from)`,
      );
  }
  return problems;
}

/** What Helm 3 requires of Chart.yaml before it renders anything. */
export function chartYamlProblems(text: string, what: string): string[] {
  let meta: unknown;
  try {
    meta = parse(text);
  } catch (err) {
    return [`${what}: not valid YAML: ${(err as Error).message.split("\n")[0]}`];
  }
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) return [`${what}: not a mapping`];
  const m = meta as Record<string, unknown>;
  const problems: string[] = [];
  if (m["apiVersion"] !== "v2")
    problems.push(
      `${what}: apiVersion is ${JSON.stringify(m["apiVersion"] ?? null)}; volcert installs Helm 3 charts (apiVersion: v2)`,
    );
  const name = m["name"];
  if (typeof name !== "string" || !name || name.includes("/"))
    problems.push(`${what}: name must be the chart's name (a string without "/"), got ${JSON.stringify(name ?? null)}`);
  const version = m["version"];
  if (typeof version !== "string" || !SEMVER.test(version))
    problems.push(
      `${what}: version must be a SemVer string such as "1.2.3" (quote it in YAML), got ${JSON.stringify(version ?? null)}`,
    );
  if (m["type"] === "library") problems.push(`${what}: a library chart cannot be installed (type: library)`);
  return problems;
}

/** Files of a chart directory, relative to it, sorted; stops counting past MAX_CHART_FILES. */
async function chartEntries(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const e of await readdir(join(dir, sub), { withFileTypes: true })) {
      if (out.length > MAX_CHART_FILES) return;
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  };
  await walk("");
  return out.sort();
}

/** A chart's files (absolute), for the results bundle: the archive itself, or every file of the directory. */
export function chartFiles(chart: string): string[] {
  let real: string;
  try {
    real = realpathSync(chart);
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (out.length > MAX_CHART_FILES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  try {
    walk(real);
  } catch {
    return [real];
  }
  return out.map((p) => join(chart, relative(real, p))).sort();
}

/** Entries of an uncompressed tar archive (ustar, with pax and GNU long names). */
export function tarEntries(tar: Buffer): { name: string; data: Buffer }[] {
  const entries: { name: string; data: Buffer }[] = [];
  let longName: string | null = null;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => header.toString("utf8", from, from + len).replace(/\0.*$/s, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1);
    const prefix = field(257, 6).startsWith("ustar") ? field(345, 155) : "";
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"))?.[1] ?? null;
      continue;
    }
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = null;
    if (type === "0" || type === "") entries.push({ name, data });
  }
  return entries;
}
