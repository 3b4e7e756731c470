import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { writeBundle } from "./bundle.ts";

const work = mkdtempSync(join(tmpdir(), "volcert-bundle-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("results bundle", () => {
  test("holds summary, JUnit, report, the driver's files and install evidence, with SHA-256 sums", async () => {
    const runDir = join(work, "run");
    const driverDir = join(work, "acme");
    mkdirSync(join(runDir, "install-failures", "acme"), { recursive: true });
    mkdirSync(join(driverDir, "deploy"), { recursive: true });
    writeFileSync(join(runDir, "summary.json"), "{}\n");
    writeFileSync(join(runDir, "junit.xml"), "<testsuites/>\n");
    writeFileSync(join(runDir, "index.html"), "<html/>\n");
    writeFileSync(join(runDir, "install-failures", "acme", "failure.txt"), "crash\n");
    writeFileSync(join(driverDir, "driver.yaml"), "kind: Driver\n");
    writeFileSync(join(driverDir, "deploy", "node.yaml"), "kind: DaemonSet\n");
    const out = await writeBundle({
      runDir,
      runId: "r1",
      driver: "acme",
      driverFiles: [join(driverDir, "driver.yaml"), join(driverDir, "deploy", "node.yaml")],
      driverRoot: driverDir,
      report: join(runDir, "index.html"),
    });
    expect(out).toBe(join(runDir, "bundles", "acme-r1.tar.gz"));
    const listing = execFileSync("tar", ["-tzf", out], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
    expect(listing).toEqual(
      expect.arrayContaining([
        "acme-r1/SHA256SUMS",
        "acme-r1/summary.json",
        "acme-r1/junit.xml",
        "acme-r1/report.html",
        "acme-r1/driver/driver.yaml",
        "acme-r1/driver/deploy/node.yaml",
        "acme-r1/install-failure/failure.txt",
      ]),
    );
    const extract = join(work, "x");
    mkdirSync(extract);
    execFileSync("tar", ["-xzf", out, "-C", extract]);
    // The sums verify with the standard tool.
    expect(
      execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: join(extract, "acme-r1"), encoding: "utf8" }),
    ).toMatch(/driver\/deploy\/node\.yaml: OK/);
  });
});
