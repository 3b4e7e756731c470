import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import {
  chartFiles,
  chartYamlProblems,
  checkHelmFiles,
  mappingProblem,
  tarEntries,
  type HelmSpec,
} from "./helm-chart.ts";

const work = mkdtempSync(join(tmpdir(), "volcert-helm-chart-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHART_YAML = "apiVersion: v2\nname: acme\nversion: 1.2.3\n";
let n = 0;
/** A driver directory with these files; returns its path. */
function driverDir(files: Record<string, string>): string {
  const dir = join(work, `d${n++}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}
const spec = (over: Partial<HelmSpec> = {}): HelmSpec => ({
  chart: "chart",
  release: "acme",
  namespace: "acme-system",
  values: [],
  set: {},
  createNamespace: true,
  ...over,
});
const problemsOf = async (dir: string, s: HelmSpec = spec(), root = dir) =>
  (await checkHelmFiles(s, dir, root)).problems;

describe("Helm chart and value files, checked before any Docker work", () => {
  test("a chart directory with a Helm 3 Chart.yaml and mapping value files passes", async () => {
    const dir = driverDir({
      "chart/Chart.yaml": CHART_YAML,
      "chart/templates/ds.yaml": "kind: DaemonSet\n",
      "values.yaml": "image: { tag: 1.2.3 }\n",
      "empty.yaml": "",
    });
    expect(await problemsOf(dir, spec({ values: ["values.yaml", "empty.yaml"] }))).toEqual([]);
  });

  test("Chart.yaml must be what Helm 3 loads", () => {
    expect(chartYamlProblems("apiVersion: v1\nname: a\nversion: 1.0.0\n", "Chart.yaml")).toEqual([
      'Chart.yaml: apiVersion is "v1"; volcert installs Helm 3 charts (apiVersion: v2)',
    ]);
    expect(chartYamlProblems("apiVersion: v2\nversion: 1.0.0\n", "Chart.yaml").join()).toMatch(/name must be/);
    expect(chartYamlProblems("apiVersion: v2\nname: a/b\nversion: 1.0.0\n", "Chart.yaml").join()).toMatch(/name/);
    expect(chartYamlProblems("apiVersion: v2\nname: a\nversion: 1.0\n", "Chart.yaml").join()).toMatch(
      /version must be a SemVer string .*got 1$/,
    );
    expect(chartYamlProblems("apiVersion: v2\nname: a\nversion: one\n", "Chart.yaml").join()).toMatch(/SemVer/);
    expect(chartYamlProblems("apiVersion: v2\nname: a\nversion: v1.2.3-rc.1+b5\n", "Chart.yaml")).toEqual([]);
    expect(chartYamlProblems("apiVersion: v2\nname: a\nversion: 1.2.3\ntype: library\n", "C")).toEqual([
      "C: a library chart cannot be installed (type: library)",
    ]);
    expect(chartYamlProblems("- a\n", "C")).toEqual(["C: not a mapping"]);
  });

  test("every problem is listed at once: no Chart.yaml, a value file that is a list, a missing one", async () => {
    const dir = driverDir({ "chart/templates/a.yaml": "x: 1\n", "list.yaml": "- a\n" });
    const problems = await problemsOf(dir, spec({ values: ["list.yaml", "nope.yaml"] }));
    expect(problems).toEqual([
      "spec.helm.chart: chart: has no Chart.yaml: not a chart directory",
      "spec.helm.values[0]: list.yaml: holds a list, not a mapping of values",
      expect.stringMatching(/^spec\.helm\.values\[1\]: nope\.yaml: does not exist/),
    ]);
  });

  test("the chart and what it links to stay inside the driver's tree", async () => {
    const outside = driverDir({ "chart/Chart.yaml": CHART_YAML, "secret.txt": "s" });
    const dir = driverDir({ "chart/Chart.yaml": CHART_YAML });
    symlinkSync(join(outside, "secret.txt"), join(dir, "chart/templates.yaml"));
    expect((await problemsOf(dir)).join("\n")).toMatch(/templates\.yaml: resolves to .*outside the driver's directory/);
    expect((await problemsOf(dir, spec({ chart: "../" + outside.split("/").pop() + "/chart" }))).join()).toMatch(
      /outside the driver's directory/,
    );
  });

  test("dependencies must be vendored in charts/ (there is no chart repository)", async () => {
    const deps = `${CHART_YAML}dependencies:\n  - { name: common, version: 1.x, repository: https://example.com }\n  - { name: sub, version: 0.1.0 }\n`;
    const dir = driverDir({
      "chart/Chart.yaml": deps,
      "chart/charts/common-1.4.0.tgz": "x",
    });
    expect(await problemsOf(dir)).toEqual([
      "spec.helm.chart: chart: Chart.yaml: dependency sub is not vendored in charts/: run helm dependency build where a chart repository is reachable and keep charts/ with the chart (volcert has none to fetch from)",
    ]);
  });

  test("a packaged chart is read from its archive", async () => {
    const dir = driverDir({ "src/acme/Chart.yaml": CHART_YAML, "src/bad/Chart.yaml": "apiVersion: v1\n" });
    execFileSync("tar", ["czf", join(dir, "acme-1.2.3.tgz"), "-C", join(dir, "src"), "acme"]);
    execFileSync("tar", ["czf", join(dir, "bad-0.1.0.tgz"), "-C", join(dir, "src"), "bad"]);
    writeFileSync(join(dir, "plain.tgz"), "not gzip");
    writeFileSync(join(dir, "chart.txt"), "x");
    expect(await problemsOf(dir, spec({ chart: "acme-1.2.3.tgz" }))).toEqual([]);
    expect((await problemsOf(dir, spec({ chart: "bad-0.1.0.tgz" }))).join()).toMatch(
      /Chart\.yaml in the archive: apiVersion is "v1"/,
    );
    expect((await problemsOf(dir, spec({ chart: "plain.tgz" }))).join()).toMatch(/is not a gzip archive/);
    expect((await problemsOf(dir, spec({ chart: "chart.txt" }))).join()).toMatch(/not a packaged chart/);
  });

  test("tar entries: long names in GNU and pax archives", () => {
    const long = `acme/${"t".repeat(120)}/Chart.yaml`;
    const dir = driverDir({ [`src/${long}`]: CHART_YAML });
    for (const format of ["gnu", "pax"]) {
      const file = join(dir, `${format}.tgz`);
      execFileSync("tar", [`--format=${format}`, "-czf", file, "-C", join(dir, "src"), "acme"]);
      const entries = tarEntries(gunzipSync(readFileSync(file)));
      expect(entries.map((e) => e.name)).toEqual([long]);
      expect(entries[0]?.data.toString()).toBe(CHART_YAML);
    }
  });

  test("value files: empty is no values; a scalar or invalid YAML is not", () => {
    expect(mappingProblem("")).toBeNull();
    expect(mappingProblem("a: 1\n")).toBeNull();
    expect(mappingProblem("hello\n")).toBe("holds a string, not a mapping of values");
    expect(mappingProblem("a: [\n")).toMatch(/^not valid YAML/);
  });

  test("the bundle gets every file of a chart directory", () => {
    const dir = driverDir({ "chart/Chart.yaml": CHART_YAML, "chart/templates/a.yaml": "x: 1\n" });
    expect(chartFiles(join(dir, "chart"))).toEqual([
      join(dir, "chart/Chart.yaml"),
      join(dir, "chart/templates/a.yaml"),
    ]);
    expect(chartFiles(join(dir, "nope"))).toEqual([]);
  });
});
