/**
 * summary.json: the machine-readable result of a run (schema `volcert.io/summary/v1`, documented
 * in docs/vendor-guide.md): which volcert, which cluster, which drivers with what they declare,
 * every case with its status, whose failure it is, how long it took, why it was skipped and which
 * evidence files it has, and the certification verdict per driver.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { ErrorCategory } from "../core/errors.ts";
import type { VolcertVersion } from "../core/version.ts";
import type { DriverFile } from "../drivers/schema.ts";
import type { CaseResult, Profile, Verdict } from "./verdict.ts";

export const SUMMARY_SCHEMA = "volcert.io/summary/v1";

export interface SummaryDriver {
  name: string;
  type: DriverFile["spec"]["type"];
  version: string | null;
  /** CSI driver name, FlexVolume driver, or in-tree plugin. */
  plugin: string;
  file: string;
  format: "volcert" | "upstream";
  capabilities: string[];
  accessModes: string[];
  profile: Profile;
  verdict: Verdict["verdict"];
  reasons: string[];
  areas: Verdict["areas"];
}

export interface Summary {
  schema: typeof SUMMARY_SCHEMA;
  volcert: VolcertVersion;
  run: {
    id: string;
    mode: "run" | "test";
    startedAt: string;
    finishedAt: string;
    durationMs: number;
    exitCode: number;
    /** The run was stopped before its end (SIGINT, SIGTERM, deadline): no verdict. */
    stopped?: string;
    /** Failures by whose they are. */
    failures: Partial<Record<ErrorCategory, number>>;
    cluster: { name: string; provider: string; createdByVolcert: boolean; kubernetes: string } | null;
    options: Record<string, unknown>;
  };
  drivers: SummaryDriver[];
  cases: (CaseResult & { evidence: string[] })[];
  files: { report: string | null; junit: string[]; allureResults: string; bundles: string[] };
}

export function describeDriver(
  d: DriverFile,
  file: string,
  format: "volcert" | "upstream",
): Omit<SummaryDriver, "profile" | "verdict" | "reasons" | "areas"> {
  const s = d.spec;
  return {
    name: d.metadata.name,
    type: s.type,
    version: d.metadata.version ?? null,
    plugin: s.csi?.driverName ?? s.flexVolume?.driver ?? s.inTree?.plugin ?? "",
    file,
    format,
    capabilities: Object.entries(s.capabilities)
      .filter(([, v]) => v)
      .map(([k]) => k)
      .sort(),
    accessModes: s.accessModes,
  };
}

interface AllureNode {
  name?: string;
  attachments?: { name: string; source: string }[];
  steps?: AllureNode[];
}

function attachmentsOf(n: AllureNode): { name: string; source: string }[] {
  return [...(n.attachments ?? []), ...(n.steps ?? []).flatMap(attachmentsOf)];
}

/** Evidence files per test name, from the Allure results (paths relative to `relativeTo`). */
export async function evidenceByTest(resultsDir: string, relativeTo: string): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (!existsSync(resultsDir)) return map;
  for (const f of (await readdir(resultsDir)).filter((f) => f.endsWith("-result.json"))) {
    const r = JSON.parse(await readFile(join(resultsDir, f), "utf8")) as AllureNode;
    if (!r.name) continue;
    const files = attachmentsOf(r).map((a) => relative(relativeTo, join(resultsDir, a.source)));
    map.set(r.name, [...(map.get(r.name) ?? []), ...files]);
  }
  return map;
}

export async function writeSummary(file: string, summary: Summary): Promise<void> {
  await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
}
