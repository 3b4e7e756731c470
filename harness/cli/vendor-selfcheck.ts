/**
 * volcert's own proof of the vendor's path, in `volcert test`, on the test run's real cluster:
 *  - a renamed copy of the reference CSI driver (driver name, namespace, class, data directory,
 *    plugin image re-tagged) in a temporary directory outside the repository is certified next to
 *    the reference drivers, given by its path;
 *  - the upstream storage.testdriver file for that copy is run by a second volcert process with
 *    --kubeconfig against the same cluster (foreign to it, the driver pre-installed): the
 *    non-disruptive suites must pass and the disruptive ones be skipped with the reason;
 *  - a copy whose plugin image does not exist must exit 2 before any cluster work.
 * A failure here is volcert's (the vendor's path is broken), never a driver's.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exec } from "../core/exec.ts";
import { say } from "../core/progress.ts";
import { DRIVERS_DIR } from "../drivers/fixtures.ts";
import type { Summary } from "../report/summary.ts";
import type { SuiteOutcome } from "./vitest-runner.ts";

const BIN = fileURLToPath(new URL("./bin.mjs", import.meta.url));
const SOURCE = join(DRIVERS_DIR, "csi-hostpath");
const SOURCE_IMAGE = "volcert/csi-hostpath:0.1.0";
export const VENDOR_IMAGE = "volcert-selftest/vendor-csi-plugin:0.1.0";
const VENDOR_DRIVER = "csi.vendor.example.com";

/** Renames every identity of the reference driver, as a vendor's own driver would have. */
const RENAMES: [RegExp, string][] = [
  [/hostpath\.csi\.volcert\.io/g, VENDOR_DRIVER],
  [/volcert-csi-hostpath/g, "vendor-csi"],
  [/volcert\/csi-hostpath:0\.1\.0/g, VENDOR_IMAGE],
  // The reference driver's comments do not describe the copy.
  [/^(#.*\n)+/, "# A vendor's driver: volcert's reference CSI driver under other names (volcert's own test).\n"],
];

/** Sets a driver file's metadata.name (only the driver file: manifests have metadata too). */
async function renameDriverFile(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, "utf8");
  const renamed = text.replace(`metadata:\n  name: ${from}\n`, `metadata:\n  name: ${to}\n`);
  if (renamed === text) throw new Error(`${file}: no metadata.name ${from} to rename`);
  await writeFile(file, renamed);
}

export interface VendorCopy {
  dir: string;
  driverFile: string;
  testdriverFile: string;
  missingImageFile: string;
}

/** Writes the renamed copy (and its upstream file, and a variant with a missing image) under the temp dir. */
export async function writeVendorCopy(runId: string): Promise<VendorCopy> {
  const dir = join(tmpdir(), `volcert-vendor-${runId}`, "vendor-csi");
  await mkdir(join(dir, "deploy"), { recursive: true });
  const rename = (text: string) => RENAMES.reduce((t, [from, to]) => t.replace(from, to), text);
  for (const rel of ["driver.yaml", "deploy/rbac.yaml", "deploy/driver.yaml"]) {
    await writeFile(join(dir, rel), rename(await readFile(join(SOURCE, rel), "utf8")));
  }
  await renameDriverFile(join(dir, "driver.yaml"), "csi-hostpath", "vendor-csi");
  // The same driver as an upstream e2e.test -storage.testdriver file describes it.
  await writeFile(
    join(dir, "testdriver.yaml"),
    [
      "StorageClass:",
      "  FromFile: storageclass.yaml",
      "DriverInfo:",
      `  Name: ${VENDOR_DRIVER}`,
      "  SupportedSizeRange: { Min: 1Mi }",
      "  Capabilities: { persistence: true, exec: true, multipods: true, fsGroup: true, topology: true, singleNodeVolume: true }",
      "Timeouts:",
      "  PodStart: 3m",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "storageclass.yaml"),
    `apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: { name: vendor }\nprovisioner: ${VENDOR_DRIVER}\nvolumeBindingMode: WaitForFirstConsumer\n`,
  );
  const missing = join(dir, "..", "missing-image");
  await mkdir(join(missing, "deploy"), { recursive: true });
  for (const rel of ["driver.yaml", "deploy/rbac.yaml", "deploy/driver.yaml"]) {
    const text = (await readFile(join(dir, rel), "utf8")).replaceAll(
      VENDOR_IMAGE,
      "volcert-selftest/never-built:0.0.0",
    );
    await writeFile(join(missing, rel), text);
  }
  await renameDriverFile(join(missing, "driver.yaml"), "vendor-csi", "vendor-missing-image");
  return {
    dir,
    driverFile: join(dir, "driver.yaml"),
    testdriverFile: join(dir, "testdriver.yaml"),
    missingImageFile: join(missing, "driver.yaml"),
  };
}

/** The vendor's plugin image: the reference plugin under the vendor's own name (local engine only). */
export async function tagVendorImage(): Promise<void> {
  await exec("docker", ["tag", SOURCE_IMAGE, VENDOR_IMAGE], { timeoutMs: 60_000 });
}

/** The vendor's image, once no cluster of the run uses it. */
export async function removeVendorImage(): Promise<void> {
  await exec("docker", ["image", "rm", VENDOR_IMAGE], { timeoutMs: 60_000, nothrow: true });
}

/** The copy's files, once the run's results bundles (vendor-csi's holds them) are written. */
export async function removeVendorFiles(copy: VendorCopy): Promise<void> {
  await rm(join(copy.dir, ".."), { recursive: true, force: true });
}

/** Runs the two CLI checks (existing cluster, missing image) and returns them as an outcome. */
export async function checkVendorPath(copy: VendorCopy, kubeconfig: string, runDir: string): Promise<SuiteOutcome> {
  const failedTests: string[] = [];
  let passed = 0;
  const check = (name: string, problems: string[]) => {
    if (problems.length) {
      failedTests.push(name);
      say(`✘ ${name}:\n${problems.map((p) => `    ${p}`).join("\n")}`);
    } else passed++;
  };

  const existing = join(runDir, "vendor-existing-cluster");
  const byo = await exec(
    process.execPath,
    [BIN, "run", "--kubeconfig", kubeconfig, "--driver", copy.testdriverFile, "--report-dir", existing],
    { nothrow: true, timeoutMs: 30 * 60_000, logFile: join(runDir, "vendor-existing-cluster.log") },
  );
  const problems: string[] = [];
  if (byo.exitCode !== 0)
    problems.push(`exit code ${byo.exitCode} (log: ${join(runDir, "vendor-existing-cluster.log")})`);
  const summary = JSON.parse(
    await readFile(join(existing, "summary.json"), "utf8").catch(() => "null"),
  ) as Summary | null;
  if (!summary) problems.push("no summary.json written");
  else {
    const mine = summary.cases.filter((c) => c.driver !== "(cluster)");
    const failed = summary.cases.filter((c) => c.status === "failed").map((c) => c.title);
    if (failed.length) problems.push(`failed: ${failed.join(", ")}`);
    for (const id of ["IN-02", "AM-01", "DP-02"]) {
      if (!mine.some((c) => c.id === id && c.status === "passed")) problems.push(`${id} did not pass`);
    }
    const nf = mine.filter((c) => c.id.startsWith("NF-"));
    if (!nf.length) problems.push("no NF case was registered (they must be skipped with the reason, not left out)");
    for (const c of nf.filter((c) => c.status !== "skipped" || !/did not create/.test(c.skipReason ?? ""))) {
      problems.push(
        `${c.id} was ${c.status} (${c.skipReason ?? "no reason"}); a disruptive case on a foreign cluster is skipped`,
      );
    }
    if (summary.run.cluster?.createdByVolcert !== false) problems.push("the cluster was not treated as foreign");
  }
  check("an upstream testdriver file on an existing cluster (--kubeconfig, driver pre-installed)", problems);

  const missing = await exec(
    process.execPath,
    [BIN, "run", "--driver", copy.missingImageFile, "--report-dir", join(runDir, "vendor-missing-image")],
    { nothrow: true, timeoutMs: 10 * 60_000 },
  );
  const out = missing.stdout + missing.stderr;
  check("a driver whose image is missing exits 2 before any cluster work", [
    ...(missing.exitCode === 2 ? [] : [`exit code ${missing.exitCode}, not 2`]),
    ...(/volcert-selftest\/never-built:0\.0\.0/.test(out) ? [] : ["the missing image is not named"]),
    ...(/kind cluster/.test(out) ? ["it got as far as cluster work"] : []),
  ]);
  return {
    passed,
    failed: failedTests.length,
    skipped: 0,
    failedTests,
    failureCategories: failedTests.map(() => "harness" as const),
    results: [],
  };
}
