/**
 * Turns allure-results into one self-contained HTML file with Allure 3 (npm `allure`, pure JS, no
 * network), after writing the run's environment, executor and categories next to the results.
 * Allure 3's "awesome" report embeds a Google Tag Manager snippet; it is removed so the file makes
 * no outside request when a customer opens it.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exec } from "../core/exec.ts";
import { InfraError } from "../core/errors.ts";
import { imageNames, type Manifest } from "../../clusters/images/manifest.ts";

export interface ReportSpec {
  resultsDir: string;
  outDir: string;
  name: string;
  env: { manifest: Manifest; dockerVersion: string };
}

/** Allure categories: which failures are the driver's, the machine's, or volcert's. */
export const CATEGORIES = [
  {
    name: "Infrastructure (cluster, Docker, image build)",
    messageRegex: "(?s).*(infrastructure error|InfraError|WaitTimeout|ECONNREFUSED|command exited).*",
    matchedStatuses: ["broken", "failed"],
  },
  {
    name: "Harness bug (volcert itself)",
    messageRegex: "(?s).*(harness error|HarnessBug|TypeError|ReferenceError).*",
    matchedStatuses: ["broken", "failed"],
  },
  { name: "Driver defect (an assertion about the driver failed)", matchedStatuses: ["failed"] },
  { name: "Broken (unclassified error)", matchedStatuses: ["broken"] },
];

export function environmentProperties(spec: ReportSpec["env"]): string {
  const m = spec.manifest;
  const props: Record<string, string> = {
    Kubernetes: m.kubernetes.version,
    kind: m.kind,
    "Node image": imageNames(m).node,
    "Node base": `Debian ${m.debian.suite}`,
    etcd: m.etcd,
    CoreDNS: m.coredns,
    "Docker engine": spec.dockerVersion,
    "Node.js": process.version,
  };
  return (
    Object.entries(props)
      .map(([k, v]) => `${k.replace(/ /g, "\\ ")}=${v}`)
      .join("\n") + "\n"
  );
}

export function stripAnalytics(html: string): string {
  return html.replace(/<script[^>]*googletagmanager\.com[^>]*><\/script>\s*<script>[\s\S]*?<\/script>/g, "");
}

export async function generateReport(spec: ReportSpec): Promise<string> {
  if (!existsSync(spec.resultsDir))
    throw new InfraError(`no Allure results in ${spec.resultsDir}: did the suites run?`);
  await writeFile(join(spec.resultsDir, "environment.properties"), environmentProperties(spec.env));
  await writeFile(join(spec.resultsDir, "categories.json"), `${JSON.stringify(CATEGORIES, null, 2)}\n`);
  await writeFile(
    join(spec.resultsDir, "executor.json"),
    `${JSON.stringify({ name: "volcert", type: "local", reportName: spec.name, buildName: spec.name }, null, 2)}\n`,
  );
  await mkdir(spec.outDir, { recursive: true });
  const cli = fileURLToPath(new URL("../../node_modules/allure/cli.js", import.meta.url));
  if (!existsSync(cli)) throw new InfraError(`Allure 3 CLI not found at ${cli}`, { fix: "run `npm ci`" });
  // Group as a vendor reads it: driver (epic) → area (feature) → test ID (story).
  await exec(
    process.execPath,
    [
      cli,
      "awesome",
      spec.resultsDir,
      "--single-file",
      "--output",
      spec.outDir,
      "--name",
      spec.name,
      "--group-by",
      "epic,feature,story",
    ],
    {
      timeoutMs: 5 * 60_000,
      env: { ALLURE_NO_ANALYTICS: "true", NO_COLOR: "1" },
    },
  );
  const index = join(spec.outDir, "index.html");
  await writeFile(index, stripAnalytics(await readFile(index, "utf8")));
  return index;
}
