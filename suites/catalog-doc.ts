/**
 * The catalog as a Markdown document (docs/catalog.md): every test ID with its area, what it
 * asserts and what a driver must declare for it to apply. Generated from the suites' own case
 * definitions, so it cannot drift; catalog-doc.test.ts fails when the published file is stale.
 */
import type { CaseRequirement } from "../harness/case/gate.ts";
import { AREAS, CATALOG } from "./catalog.ts";

export const CATALOG_DOC_COMMAND = "npm run -s volcert -- cases --markdown > docs/catalog.md";

/** What a case needs of a driver and of the cluster, as one line ("" when nothing). */
export function describeRequirement(r: CaseRequirement | undefined): string {
  if (!r) return "";
  const parts = [
    r.types?.length ? `type ${r.types.join(" or ")}` : "",
    r.inTreePlugins?.length ? `in-tree plugin ${r.inTreePlugins.join(" or ")}` : "",
    r.dynamic ? "a StorageClass (dynamic provisioning)" : "",
    r.capabilities?.length ? r.capabilities.map((c) => `\`${c}\``).join(", ") : "",
    r.lacking?.length ? `not ${r.lacking.map((c) => `\`${c}\``).join(", ")}` : "",
    r.accessModes?.length ? `access mode ${r.accessModes.join(", ")}` : "",
    r.fsTypes ? "supportedFsTypes" : "",
    r.mountOptions ? "supportedMountOptions" : "",
    r.dataPaths ? "volumeDataPaths" : "",
    r.nodePlugin ? "spec.csi.node" : "",
    r.attach ? "attaches volumes (VolumeAttachment)" : "",
    r.workers ? `at least ${r.workers} workers` : "",
    r.maxWorkers ? `at most ${r.maxWorkers} worker(s)` : "",
    r.nodeLifecycle ? "node power and faults from outside (kind)" : "",
  ];
  return parts.filter(Boolean).join("; ");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function catalogMarkdown(): string {
  const lines = [
    "# volcert test catalog",
    "",
    `Generated from the suites' case definitions (\`${CATALOG_DOC_COMMAND}\`); do not edit by hand.`,
    "Test IDs are stable: they name cases in titles, report labels, JUnit and `--case`.",
    "Per-driver cases run for every driver whose declaration meets what they need and are skipped",
    "with that reason otherwise; per-cluster cases run once per cluster.",
  ];
  for (const [area, what] of Object.entries(AREAS)) {
    const cases = CATALOG.filter((c) => c.area === area);
    if (!cases.length) continue;
    lines.push("", `## ${area}: ${what}`, "", "| ID | case | asserts | needs |", "| --- | --- | --- | --- |");
    for (const c of cases) {
      const needs = c.perDriver ? describeRequirement(c.meta?.requires) || "any driver" : "per cluster";
      const flags = c.meta?.disruptive ? " (disruptive)" : "";
      lines.push(`| ${c.id} | ${cell(c.title)}${flags} | ${cell(c.meta?.asserts ?? "")} | ${cell(needs)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}
