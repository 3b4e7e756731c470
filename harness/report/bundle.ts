/**
 * A results bundle per driver: one .tar.gz a vendor can hand to a customer or keep as a CI
 * artifact. It holds the run's summary.json and JUnit files, the single-file HTML report, the
 * driver file and every file it references (as certified), the driver's install-failure evidence
 * if any, and SHA256SUMS over all of them.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { exec } from "../core/exec.ts";

export interface BundleInput {
  runDir: string;
  runId: string;
  driver: string;
  /** The driver file and the files it references (absolute paths), kept relative to driverRoot. */
  driverFiles: string[];
  driverRoot: string;
  report: string | null;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out.sort();
}

/** Writes <runDir>/bundles/<driver>-<runId>.tar.gz and returns its path. */
export async function writeBundle(b: BundleInput): Promise<string> {
  const stage = await mkdtemp(join(tmpdir(), "volcert-bundle-"));
  const top = `${b.driver}-${b.runId}`;
  const root = join(stage, top);
  try {
    await mkdir(join(root, "driver"), { recursive: true });
    for (const name of ["summary.json", ...(await readdir(b.runDir)).filter((n) => /^junit.*\.xml$/.test(n))]) {
      if (existsSync(join(b.runDir, name))) await cp(join(b.runDir, name), join(root, name));
    }
    if (b.report && existsSync(b.report)) await cp(b.report, join(root, "report.html"));
    for (const f of b.driverFiles) {
      if ((await stat(f)).isFile()) await cp(f, join(root, "driver", relative(b.driverRoot, f)), { recursive: true });
    }
    const failures = join(b.runDir, "install-failures", b.driver);
    if (existsSync(failures)) await cp(failures, join(root, "install-failure"), { recursive: true });
    const sums: string[] = [];
    for (const f of await filesUnder(root)) {
      sums.push(
        `${createHash("sha256")
          .update(await readFile(f))
          .digest("hex")}  ${relative(root, f)}`,
      );
    }
    await writeFile(join(root, "SHA256SUMS"), `${sums.join("\n")}\n`);
    await mkdir(join(b.runDir, "bundles"), { recursive: true });
    const out = join(b.runDir, "bundles", `${top}.tar.gz`);
    await exec("tar", ["-czf", out, "-C", stage, basename(root)], { timeoutMs: 5 * 60_000 });
    return out;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
