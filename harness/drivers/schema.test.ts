/**
 * The driver file schema's value checks (one mutation of a valid file per check, with the exact
 * message), the quantity parser, the JSON Schema under Ajv's strict mode, and the generated
 * reference (docs/driver-reference.md) being up to date.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { format } from "prettier";
import { parse } from "yaml";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../core/errors.ts";
import { driverJsonSchema } from "./json-schema.ts";
import { parseDriverText } from "./load.ts";
import { quantityToBytes } from "./quantity.ts";
import { driverReferenceMarkdown, REFERENCE_COMMAND } from "./reference.ts";
import { CAPABILITY_KEYS, formatDuration, TIMEOUT_KEYS } from "./schema.ts";

const csi = `
apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: demo }
spec:
  type: csi
  csi:
    driverName: demo.csi.example.com
    manifests: [deploy.yaml]
    node: { kind: DaemonSet, name: demo-node, namespace: demo-system }
  storageClasses: [{ name: demo, provisioner: demo.csi.example.com }]
  volumeDataPaths: ["/var/lib/demo/{volumeHandle}"]
  sizeRange: { min: 1Gi, max: 10Gi }
  timeouts: { podStart: 5m }
  capabilities: { persistence: true }
`;

const flex = `
apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: demo-flex }
spec:
  type: flexvolume
  flexVolume:
    driver: acme/loop
    executable: loop
    cleanupPaths: ["/var/lib/acme-loop/{volume}.img"]
`;

function problemsOf(text: string): string[] {
  try {
    parseDriverText(text, "driver.yaml");
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

/** The valid file with one string replaced (which must occur in it). */
function mutate(base: string, from: string, to: string): string {
  expect(base, `mutation target ${from}`).toContain(from);
  return base.replace(from, to);
}

const long = (n: number, unit = "a") => unit.repeat(n);
const DATA_KNOWN = "known placeholders: {volumeHandle}, {pv}";

describe("driver file value checks", () => {
  test("the valid files used below have no problems", () => {
    expect(problemsOf(csi)).toEqual([]);
    expect(problemsOf(flex)).toEqual([]);
  });

  test("metadata.name is a DNS label of at most 63 characters", () => {
    expect(problemsOf(mutate(csi, "name: demo }", `name: ${long(63)} }`))).toEqual([]);
    expect(problemsOf(mutate(csi, "name: demo }", `name: ${long(64)} }`))).toEqual([
      "metadata.name: a DNS label is at most 63 characters; this one has 64",
    ]);
    expect(problemsOf(mutate(csi, "name: demo }", "name: Demo_1 }"))).toEqual([
      "metadata.name: expected a DNS label (lowercase letters, digits, '-')",
    ]);
  });

  test("storage class names are DNS labels of at most 63 characters", () => {
    expect(problemsOf(mutate(csi, "[{ name: demo,", `[{ name: ${long(64)},`))).toEqual([
      "spec.storageClasses[0].name: a DNS label is at most 63 characters; this one has 64",
    ]);
  });

  test("csi.driverName follows the Kubernetes CSIDriver name rules", () => {
    const withName = (n: string) => problemsOf(mutate(csi, "driverName: demo.csi.example.com", `driverName: "${n}"`));
    const rules =
      "spec.csi.driverName: expected a CSI driver name (Kubernetes CSIDriver name rules: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, e.g. \"hostpath.csi.example.com\")";
    expect(withName("a-b.c9")).toEqual([]);
    expect(withName("Demo.CSI.example.com")).toEqual([rules]);
    expect(withName("-demo.example.com")).toEqual([rules]);
    expect(withName("demo..example.com")).toEqual([rules]);
    expect(withName("demo.example.com.")).toEqual([rules]);
    expect(withName(`${long(60)}.com`)).toEqual([
      "spec.csi.driverName: a CSI driver name is at most 63 characters; this one has 64",
    ]);
  });

  test("workload names are DNS subdomains (≤ 253), namespaces DNS labels (≤ 63)", () => {
    const node = (name: string, ns: string) =>
      problemsOf(mutate(csi, "name: demo-node, namespace: demo-system", `name: "${name}", namespace: "${ns}"`));
    expect(node("demo.node-1", "kube-system")).toEqual([]);
    expect(node(`${long(120)}.${long(132)}`, "x")).toEqual([]);
    expect(node(`${long(126)}.${long(127)}`, "x")).toEqual([
      "spec.csi.node.name: a DNS subdomain is at most 253 characters; this one has 254",
    ]);
    expect(node("Demo_Node", "x")).toEqual([
      "spec.csi.node.name: expected a DNS subdomain (lowercase letters, digits, '-' and '.')",
    ]);
    expect(node("demo-node", "demo.system")).toEqual([
      "spec.csi.node.namespace: expected a DNS label (lowercase letters, digits, '-')",
    ]);
    expect(node("demo-node", long(64))).toEqual([
      "spec.csi.node.namespace: a DNS label is at most 63 characters; this one has 64",
    ]);
  });

  test("spec.helm: a CSI driver installed from a chart instead of manifests, with Helm's limits", () => {
    const helm = mutate(csi, "    manifests: [deploy.yaml]\n", "").replace(
      "  csi:\n",
      "  helm: { chart: chart, release: demo, namespace: demo-system }\n  csi:\n",
    );
    const { definition } = parseDriverText(helm, "driver.yaml");
    expect(definition.spec.helm).toEqual({
      chart: "chart",
      release: "demo",
      namespace: "demo-system",
      values: [],
      set: {},
      createNamespace: true,
    });
    const field = (from: string, to: string) => problemsOf(mutate(helm, from, to));
    expect(field("release: demo,", `release: ${long(53)},`)).toEqual([]);
    expect(field("release: demo,", `release: ${long(54)},`)).toEqual([
      "spec.helm.release: a Helm release name is at most 53 characters; this one has 54",
    ]);
    expect(field("namespace: demo-system }", "namespace: Demo }")).toEqual([
      "spec.helm.namespace: expected a DNS label (lowercase letters, digits, '-')",
    ]);
    expect(field("chart: chart,", "chart: /abs/chart,")).toEqual([
      "spec.helm.chart: must be relative to the driver file",
    ]);
    expect(field("demo-system }", 'demo-system, set: { image.tag: "1.0", "args[0]": 2, on: true } }')).toEqual([]);
    expect(field("demo-system }", 'demo-system, set: { "a,b": x, "a=b": x, ".a": x } }')).toEqual(
      ["a,b", "a=b", ".a"].map(
        (k) =>
          `spec.helm.set: key "${k}": expected a value path such as image.tag or args[0] (letters, digits, '_' and '-', separated by '.', with optional [N] indexes); put keys with other characters in a value file`,
      ),
    );
    expect(field("demo-system }", "demo-system, set: { a: [1] } }")).toEqual(["spec.helm.set.a: Invalid input"]);
  });

  test("spec.helm goes with spec.type csi, exclusive with manifests, and needs the node plugin", () => {
    const section = "  helm: { chart: chart, release: demo, namespace: demo-system }\n";
    expect(problemsOf(mutate(csi, "  csi:\n", `${section}  csi:\n`))).toEqual([
      "spec.csi.manifests: give either spec.csi.manifests or spec.helm, not both: each installs the driver on its own (leave manifests out for a chart)",
    ]);
    const noNode = mutate(
      mutate(csi, "    manifests: [deploy.yaml]\n", ""),
      "    node: { kind: DaemonSet, name: demo-node, namespace: demo-system }\n",
      "",
    );
    expect(problemsOf(mutate(noNode, "  csi:\n", `${section}  csi:\n`))).toEqual([
      "spec.csi.node: required when volcert installs the driver (spec.helm): name the node plugin workload, e.g. { kind: DaemonSet, name: acme-node, namespace: acme-system }",
    ]);
    expect(problemsOf(mutate(flex, "  flexVolume:\n", `${section}  flexVolume:\n`))).toEqual([
      'spec.helm: a Helm chart installs a CSI driver: spec.type must be "csi" (it is "flexvolume"), with spec.csi naming the driver and its workloads',
    ]);
  });

  test("spec.cluster: shared storage and the VolumeSnapshot API, strictly, snapshots for CSI only", () => {
    const withCluster = (text: string, cluster: string) =>
      mutate(text, "  capabilities:", `  cluster: ${cluster}\n  capabilities:`);
    const { definition } = parseDriverText(
      withCluster(csi, "{ sharedStorage: true, volumeSnapshots: true }"),
      "driver.yaml",
    );
    expect(definition.spec.cluster).toEqual({ sharedStorage: true, volumeSnapshots: true });
    expect(parseDriverText(csi, "driver.yaml").definition.spec.cluster).toEqual({});
    expect(problemsOf(withCluster(csi, "{ sharedStorge: true }"))).toEqual([
      'spec.cluster.sharedStorge: unknown key; did you mean "sharedStorage"?',
    ]);
    expect(problemsOf(withCluster(csi, '{ sharedStorage: "yes" }'))).toEqual([
      "spec.cluster.sharedStorage: Invalid input: expected boolean, received string",
    ]);
    const flexWith = mutate(flex, "  flexVolume:", "  capabilities: {}\n  flexVolume:");
    expect(problemsOf(withCluster(flexWith, "{ sharedStorage: true }"))).toEqual([]);
    expect(problemsOf(withCluster(flexWith, "{ volumeSnapshots: true }"))).toEqual([
      'spec.cluster.volumeSnapshots: VolumeSnapshots are taken by CSI drivers: spec.type is "flexvolume", so the VolumeSnapshot API would serve nothing',
    ]);
  });

  test("csi.expect.storageCapacity is a boolean", () => {
    const withExpect = (v: string) =>
      mutate(csi, "    node: { kind: DaemonSet", `    expect: { storageCapacity: ${v} }\n    node: { kind: DaemonSet`);
    expect(parseDriverText(withExpect("true"), "driver.yaml").definition.spec.csi?.expect).toEqual({
      storageCapacity: true,
    });
    expect(problemsOf(withExpect("1"))).toEqual([
      "spec.csi.expect.storageCapacity: Invalid input: expected boolean, received number",
    ]);
  });

  test("sizeRange.min is not larger than sizeRange.max, compared in bytes", () => {
    const range = (min: string, max: string) =>
      problemsOf(mutate(csi, "{ min: 1Gi, max: 10Gi }", `{ min: ${min}, max: ${max} }`));
    expect(range("1000Mi", "1Gi")).toEqual([]);
    expect(range("1G", "1Gi")).toEqual([]);
    expect(range("1Gi", "1Gi")).toEqual([]);
    expect(range("2Gi", "1Gi")).toEqual([
      "spec.sizeRange.max: must not be smaller than sizeRange.min: max 1Gi is 1073741824 bytes, min 2Gi is 2147483648 bytes",
    ]);
    expect(range("1Gi", "1G")).toEqual([
      "spec.sizeRange.max: must not be smaller than sizeRange.min: max 1G is 1000000000 bytes, min 1Gi is 1073741824 bytes",
    ]);
    // A malformed quantity is reported as such, not compared.
    expect(range("lots", "1Gi")).toEqual(['spec.sizeRange.min: expected a Kubernetes quantity such as "1Gi"']);
  });

  test("every timeout is more than 0 and at most 2h", () => {
    const timeout = (t: string) => problemsOf(mutate(csi, "{ podStart: 5m }", `{ podStart: "${t}" }`));
    expect(timeout("2h")).toEqual([]);
    expect(timeout("119m60s")).toEqual([]);
    expect(timeout("1ms")).toEqual([]);
    expect(timeout("0s")).toEqual(['spec.timeouts.podStart: must be more than 0 ("0s" is no time at all)']);
    expect(timeout("3h")).toEqual(['spec.timeouts.podStart: must be at most 2h ("3h" is 3h)']);
    expect(timeout("7200001ms")).toEqual(['spec.timeouts.podStart: must be at most 2h ("7200001ms" is 2h1ms)']);
    expect(timeout("5 minutes")).toEqual(['spec.timeouts.podStart: expected a duration such as "90s" or "5m"']);
    for (const key of TIMEOUT_KEYS)
      expect(problemsOf(mutate(csi, "{ podStart: 5m }", `{ ${key}: 0m }`))).toEqual([
        `spec.timeouts.${key}: must be more than 0 ("0m" is no time at all)`,
      ]);
  });

  test("volumeDataPaths: only {volumeHandle} and {pv}, naming the known ones", () => {
    const path = (p: string) => problemsOf(mutate(csi, '["/var/lib/demo/{volumeHandle}"]', `["${p}"]`));
    expect(path("/var/lib/demo/{pv}/data-{volumeHandle}")).toEqual([]);
    expect(path("/var/lib/demo/{volumeHandel}")).toEqual([
      `spec.volumeDataPaths[0]: unknown placeholder {volumeHandel} (did you mean {volumeHandle}?); ${DATA_KNOWN}`,
    ]);
    expect(path("/var/lib/demo/{volume}")).toEqual([
      `spec.volumeDataPaths[0]: unknown placeholder {volume}; ${DATA_KNOWN}`,
    ]);
    expect(path("/var/lib/demo/{x}").join("\n")).toMatch(
      /unknown placeholder \{x\}.*; known placeholders: \{volumeHandle\}, \{pv\}/,
    );
    expect(path("/var/lib/demo/{volumeHandle")).toEqual([
      `spec.volumeDataPaths[0]: has a "{" or "}" that is not part of a placeholder; ${DATA_KNOWN}`,
      "spec.volumeDataPaths[0]: must contain a placeholder ({volumeHandle}, {pv}): a fixed path is the same for every volume, so the data-deletion check would look at a path all volumes share",
    ]);
  });

  test("volumeDataPaths: each entry has a placeholder, is absolute, has no '..'", () => {
    const path = (p: string) => problemsOf(mutate(csi, '["/var/lib/demo/{volumeHandle}"]', `["${p}"]`));
    expect(path("/var/lib/demo/data")).toEqual([
      "spec.volumeDataPaths[0]: must contain a placeholder ({volumeHandle}, {pv}): a fixed path is the same for every volume, so the data-deletion check would look at a path all volumes share",
    ]);
    expect(path("var/lib/demo/{pv}")).toEqual(["spec.volumeDataPaths[0]: must be an absolute node path"]);
    expect(path("/var/lib/demo/{pv}/../x")).toEqual([
      'spec.volumeDataPaths[0]: must not contain ".." segments: name the directory directly',
    ]);
  });

  test("volumeDataPaths: no system directory once the placeholders are empty", () => {
    const path = (p: string) => problemsOf(mutate(csi, '["/var/lib/demo/{volumeHandle}"]', `["${p}"]`));
    const system = (dir: string) =>
      `spec.volumeDataPaths[0]: with its placeholders empty this is ${dir}, a system directory (the data-deletion check would look at it): use a directory of the driver's own, such as /var/lib/<driver>/{volumeHandle}`;
    expect(path("/var/lib/kubelet/{pv}")).toEqual([system("/var/lib/kubelet")]);
    expect(path("/{volumeHandle}")).toEqual([system("/")]);
    expect(path("/tmp/{pv}/")).toEqual([system("/tmp")]);
    expect(path("/var/{pv}/lib")).toEqual([system("/var/lib")]);
    expect(path("/var/lib/./kubelet//{pv}")).toEqual([system("/var/lib/kubelet")]);
    expect(path("/var/lib/kubelet/pods/{pv}")).toEqual([]);
    expect(path("/tmp-{pv}")).toEqual([]);
    // Every problem of one path at once.
    expect(path("/var/lib/demo/../kubelet/{pv}")).toEqual([
      'spec.volumeDataPaths[0]: must not contain ".." segments: name the directory directly',
      system("/var/lib/kubelet"),
    ]);
  });

  test("flexVolume.cleanupPaths: only {volume}, always one, never a system directory", () => {
    const path = (p: string) => problemsOf(mutate(flex, '["/var/lib/acme-loop/{volume}.img"]', `["${p}"]`));
    expect(path("/var/lib/acme-loop/{volume}/disk.img")).toEqual([]);
    expect(path("/var/lib/acme-loop/{pv}.img")).toEqual([
      "spec.flexVolume.cleanupPaths[0]: unknown placeholder {pv}; known placeholders: {volume}",
    ]);
    expect(path("/var/lib/acme-loop/{volme}.img")).toEqual([
      "spec.flexVolume.cleanupPaths[0]: unknown placeholder {volme} (did you mean {volume}?); known placeholders: {volume}",
    ]);
    expect(path("/var/lib/acme-loop/disk.img")).toEqual([
      "spec.flexVolume.cleanupPaths[0]: must contain a placeholder ({volume}): a fixed path is the same for every volume, so volcert's rm -rf after each volume would delete a path all volumes share",
    ]);
    expect(path("/{volume}")).toEqual([
      "spec.flexVolume.cleanupPaths[0]: with its placeholders empty this is /, a system directory (volcert's rm -rf after each volume would delete it): use a directory of the driver's own, such as /var/lib/<driver>/{volume}",
    ]);
    expect(path("/var/lib/acme-loop/{volume}/../x.img")).toEqual([
      'spec.flexVolume.cleanupPaths[0]: must not contain ".." segments: name the directory directly',
    ]);
  });

  test("every problem of a file is reported at once", () => {
    let bad = mutate(csi, "name: demo }", `name: ${long(64)} }`);
    bad = mutate(bad, "driverName: demo.csi.example.com", "driverName: Demo");
    bad = mutate(bad, "namespace: demo-system", "namespace: Demo");
    bad = mutate(bad, "{ min: 1Gi, max: 10Gi }", "{ min: 2Gi, max: 1Gi }");
    bad = mutate(bad, "{ podStart: 5m }", "{ podStart: 0s, install: 3h }");
    bad = mutate(bad, '["/var/lib/demo/{volumeHandle}"]', '["/var/lib/demo/{volumeHandel}", "/var/lib/kubelet"]');
    bad = mutate(bad, "persistence: true", "persistance: true");
    const problems = problemsOf(bad);
    const where = problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(where).toEqual(
      expect.arrayContaining([
        "metadata.name",
        "spec.csi.driverName",
        "spec.csi.node.namespace",
        "spec.sizeRange.max",
        "spec.timeouts.podStart",
        "spec.timeouts.install",
        "spec.volumeDataPaths[0]",
        "spec.volumeDataPaths[1]",
        "spec.capabilities.persistance",
      ]),
    );
  });
});

describe("quantities", () => {
  test("binary and decimal suffixes, fractions rounded up to a byte", () => {
    const cases: [string, number | null][] = [
      ["1", 1],
      ["1000001", 1_000_001],
      ["1k", 1000],
      ["1Ki", 1024],
      ["3333Ki", 3333 * 1024],
      ["1Mi", 2 ** 20],
      ["1.5Gi", 1.5 * 2 ** 30],
      ["1G", 1e9],
      ["0.5k", 500],
      ["0.7k", 700],
      ["1.0001Ki", 1025],
      ["2Ti", 2 * 2 ** 40],
      ["1P", 1e15],
      ["1Pi", 2 ** 50],
      ["1e9", null],
      ["100m", null],
      ["-1Gi", null],
      ["1 Gi", null],
      ["", null],
    ];
    for (const [text, bytes] of cases) expect(quantityToBytes(text), text).toBe(bytes);
  });

  test("durations print in the driver file's notation", () => {
    expect(formatDuration(7_200_000)).toBe("2h");
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(90_500)).toBe("1m30s500ms");
    expect(formatDuration(0)).toBe("0ms");
  });
});

interface JsonNode {
  [key: string]: unknown;
}

/** Every property schema in a JSON Schema, with its path. */
function properties(node: unknown, path = ""): { path: string; schema: JsonNode }[] {
  if (!node || typeof node !== "object") return [];
  const n = node as JsonNode;
  const out: { path: string; schema: JsonNode }[] = [];
  for (const [key, prop] of Object.entries((n["properties"] ?? {}) as Record<string, JsonNode>)) {
    out.push({ path: `${path}.${key}`, schema: prop }, ...properties(prop, `${path}.${key}`));
  }
  for (const key of ["items", "additionalProperties"]) out.push(...properties(n[key], `${path}[]`));
  return out;
}

const FIXTURES = fileURLToPath(new URL("../../fixtures/drivers/", import.meta.url));
const fixtureFiles = readdirSync(FIXTURES)
  .map((d) => join(FIXTURES, d, "driver.yaml"))
  .filter((f) => existsSync(f));

describe("the JSON Schema", () => {
  const schema = driverJsonSchema();

  test("compiles under Ajv strict mode (2020-12, as it declares; and draft-07 without $schema)", () => {
    expect(schema["$schema"]).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(() => new Ajv2020({ strict: true }).compile(schema)).not.toThrow();
    const { $schema: _, ...withoutDraft } = schema;
    expect(() => new Ajv({ strict: true }).compile(withoutDraft)).not.toThrow();
  });

  test("every fixture driver file is valid against it, and loads", () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
    expect(fixtureFiles.length).toBeGreaterThan(0);
    for (const file of fixtureFiles) {
      const text = readFileSync(file, "utf8");
      expect(validate(parse(text)), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(problemsOf(text), file).toEqual([]);
    }
  });

  test("it carries the length limits and rejects what they exclude", () => {
    const validate = new Ajv2020({ strict: true }).compile(schema);
    const doc = parse(csi) as { metadata: { name: string } };
    expect(validate(doc)).toBe(true);
    doc.metadata.name = long(64);
    expect(validate(doc)).toBe(false);
  });

  test("every property has a description a vendor can act on", () => {
    const all = properties(schema);
    expect(all.length).toBeGreaterThan(60);
    const undocumented = all.filter((p) => typeof p.schema["description"] !== "string").map((p) => p.path);
    expect(undocumented).toEqual([]);
    const terse = all.filter((p) => (p.schema["description"] as string).length < 12).map((p) => p.path);
    expect(terse).toEqual([]);
    expect(typeof schema["description"]).toBe("string");
  });

  test("every capability key and timeout is described, with the cases or defaults it concerns", () => {
    const spec = (schema["properties"] as Record<string, JsonNode>)["spec"] as JsonNode;
    const props = spec["properties"] as Record<string, JsonNode>;
    const caps = (props["capabilities"] as JsonNode)["properties"] as Record<string, JsonNode>;
    expect(Object.keys(caps)).toEqual([...CAPABILITY_KEYS]);
    for (const k of CAPABILITY_KEYS) expect(caps[k]?.["description"], k).toMatch(/upstream Cap|no upstream equivalent/);
    const timeouts = (props["timeouts"] as JsonNode)["properties"] as Record<string, JsonNode>;
    for (const k of TIMEOUT_KEYS) expect(timeouts[k]?.["description"], k).toMatch(/Default: \d/);
  });
});

describe("the driver file reference", () => {
  test(`docs/driver-reference.md is up to date (regenerate: ${REFERENCE_COMMAND})`, () => {
    const file = new URL("../../docs/driver-reference.md", import.meta.url);
    const published = existsSync(file) ? readFileSync(file, "utf8") : "(missing)";
    expect(published, `docs/driver-reference.md is stale: run ${REFERENCE_COMMAND}`).toBe(driverReferenceMarkdown());
  });

  test("it is laid out as prettier lays out Markdown (so formatting never makes it stale)", async () => {
    const md = driverReferenceMarkdown();
    expect(await format(md, { parser: "markdown", printWidth: 120 })).toBe(md);
  });

  test("it has a table row for every field, enums listed, and the placeholder rules", () => {
    const md = driverReferenceMarkdown();
    for (const k of [...CAPABILITY_KEYS, ...TIMEOUT_KEYS, "driverName", "volumeDataPaths", "cleanupPaths"])
      expect(md).toMatch(new RegExp(`\\| \`${k}\` +\\|`));
    expect(md).toContain("one of `Delete`, `Retain`");
    expect(md).toContain("## Node path placeholders");
    expect(md).toContain("`{volumeHandle}`");
    expect(md).toContain("`{volume}`");
    expect(md).not.toMatch(/<(vendor|driver)>/);
  });
});
