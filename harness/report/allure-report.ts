/**
 * Turns allure-results into one self-contained HTML file with Allure 3 (npm `allure`, pure JS, no
 * network). The run's environment goes next to the results; the categories go into an Allure 3
 * config file (Allure 3 reads categories from its config, not from categories.json) and sort
 * every failure by whose it is, from the `blame` label the suites' setup puts on each failed test.
 * Allure 3's "awesome" report embeds a Google Tag Manager snippet; it is removed so the file makes
 * no outside request when a customer opens it.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exec } from "../core/exec.ts";
import { InfraError } from "../core/errors.ts";
import { BLAME_LABEL } from "../evidence/allure.ts";

export interface ReportEnvironment {
  kubernetes: string;
  kind: string;
  nodeImage: string;
  debian: string;
  etcd: string;
  coredns: string;
  docker: string;
  /** volcert's version and commit. */
  volcert: string;
  /** The drivers under test with their versions. */
  drivers: string;
}

export interface ReportSpec {
  resultsDir: string;
  outDir: string;
  /** Where the Allure config for this report is written. */
  configDir: string;
  name: string;
  env: ReportEnvironment;
}

const failedOrBroken = ["failed", "broken"] as const;

/** Allure 3 categories: whose failure each failed test is (matched on the blame label), in this order. */
export const CATEGORIES = [
  {
    name: "Driver defect (the driver under test did not do what it declared)",
    matchers: { statuses: failedOrBroken, labels: { [BLAME_LABEL]: "^driver$" } },
  },
  {
    name: "Infrastructure (machine, Docker, cluster): not a verdict on the driver",
    matchers: { statuses: failedOrBroken, labels: { [BLAME_LABEL]: "^infrastructure$" } },
  },
  {
    name: "volcert bug (please report it)",
    matchers: { statuses: failedOrBroken, labels: { [BLAME_LABEL]: "^harness$" } },
  },
  {
    name: "Bad input (driver file or options)",
    matchers: { statuses: failedOrBroken, labels: { [BLAME_LABEL]: "^config$" } },
  },
  // Failures that were never classified: volcert should have; say so rather than guess.
  {
    name: "Unclassified failure (a volcert bug: every failure should say whose it is)",
    matchers: { statuses: failedOrBroken },
  },
];

export function environmentProperties(env: ReportEnvironment): string {
  const props: Record<string, string> = {
    volcert: env.volcert,
    "Drivers under test": env.drivers,
    Kubernetes: env.kubernetes,
    kind: env.kind,
    "Node image": env.nodeImage,
    "Node base": `Debian ${env.debian}`,
    etcd: env.etcd,
    CoreDNS: env.coredns,
    "Docker engine": env.docker,
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

/** Runs Allure 3's "awesome" report on the results, with volcert's config (categories). */
export async function runAllure(
  spec: Pick<ReportSpec, "resultsDir" | "outDir" | "configDir" | "name">,
  opts: { singleFile: boolean },
): Promise<void> {
  const config = join(spec.configDir, "allurerc.json");
  await writeFile(config, `${JSON.stringify({ name: spec.name, categories: CATEGORIES }, null, 2)}\n`);
  await mkdir(spec.outDir, { recursive: true });
  const cli = fileURLToPath(new URL("../../node_modules/allure/cli.js", import.meta.url));
  if (!existsSync(cli)) throw new InfraError(`Allure 3 CLI not found at ${cli}`, { fix: "run `npm ci`" });
  // Group as a vendor reads it: driver (epic) → area (feature) → test ID (story).
  const args = ["awesome", spec.resultsDir, "--config", config, "--output", spec.outDir, "--name", spec.name];
  await exec(
    process.execPath,
    [cli, ...args, ...(opts.singleFile ? ["--single-file"] : []), "--group-by", "epic,feature,story"],
    { timeoutMs: 5 * 60_000, env: { ALLURE_NO_ANALYTICS: "true", NO_COLOR: "1" } },
  );
}

export async function generateReport(spec: ReportSpec): Promise<string> {
  if (!existsSync(spec.resultsDir))
    throw new InfraError(`no Allure results in ${spec.resultsDir}: did the suites run?`);
  await writeFile(join(spec.resultsDir, "environment.properties"), environmentProperties(spec.env));
  await writeFile(
    join(spec.resultsDir, "executor.json"),
    `${JSON.stringify({ name: "volcert", type: "local", reportName: spec.name, buildName: spec.name }, null, 2)}\n`,
  );
  await runAllure(spec, { singleFile: true });
  const index = join(spec.outDir, "index.html");
  await writeFile(index, stripAnalytics(await readFile(index, "utf8")));
  return index;
}
