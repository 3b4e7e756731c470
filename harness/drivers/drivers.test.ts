import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../core/errors.ts";
import { skipReason } from "./capabilities.ts";
import { driverJsonSchemaText } from "./json-schema.ts";
import { parseDriverText } from "./load.ts";
import { closest } from "./suggest.ts";

const valid = `
apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: demo }
spec:
  type: csi
  csi:
    driverName: demo.csi.example.com
    manifests: [deploy.yaml]
    node: { kind: DaemonSet, name: demo-node, namespace: kube-system }
  storageClasses: [{ name: demo, provisioner: demo.csi.example.com }]
  capabilities: { persistence: true, exec: true }
`;

function problemsOf(text: string): string[] {
  try {
    parseDriverText(text, "driver.yaml");
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("driver definitions", () => {
  test("what volcert cannot do is rejected with the reason, not silently tested as something else", () => {
    const inTree = (plugin: string) =>
      `apiVersion: volcert.io/v1alpha1\nkind: Driver\nmetadata: { name: demo }\nspec:\n  type: in-tree\n  inTree: { plugin: ${plugin} }\n`;
    expect(problemsOf(inTree("nfs")).join("\n")).toMatch(/in-tree plugin "nfs" is not supported: .*hostPath and local/);
    expect(problemsOf(inTree("iscsi")).join("\n")).toMatch(/"iscsi" is not supported/);
    expect(problemsOf(inTree("local, backing: loop-device")).join("\n")).toMatch(/backing/);
    // A chart is a way to install a CSI driver, not a kind of driver of its own.
    const helm = inTree("hostPath").replace(
      "  inTree:",
      "  helm: { chart: chart, release: demo, namespace: demo }\n  inTree:",
    );
    expect(problemsOf(helm).join("\n")).toMatch(
      /spec\.helm: a Helm chart installs a CSI driver: spec\.type must be "csi"/,
    );
  });

  test("a valid file gets defaults filled in", () => {
    const { definition } = parseDriverText(valid, "driver.yaml");
    expect(definition.spec.supportedFsTypes).toEqual([""]);
    expect(definition.spec.timeoutMultiplier).toBe(1);
    expect(definition.spec.storageClasses[0]?.reclaimPolicy).toBe("Delete");
  });

  test("IN-03 a misspelled capability is rejected with the closest valid key", () => {
    expect(problemsOf(valid.replace("persistence: true", "persistance: true"))).toEqual([
      'spec.capabilities.persistance: unknown key; did you mean "persistence"?',
    ]);
  });

  test("IN-03 every problem is listed at once: unknown keys, wrong types, missing sections", () => {
    const bad = valid
      .replace("type: csi", "type: csi\n  storageClass: []")
      .replace("exec: true", "exec: yes-please")
      .replace("node: { kind: DaemonSet", "node: { kind: ReplicaSet");
    const problems = problemsOf(bad);
    expect(problems).toContain('spec.storageClass: unknown key; did you mean "storageClasses"?');
    expect(problems.some((p) => p.startsWith("spec.capabilities.exec:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("spec.csi.node.kind:"))).toBe(true);
    expect(problems).toHaveLength(3);
  });

  test("the section matching spec.type is required, and no other", () => {
    const problems = problemsOf(valid.replace("type: csi", "type: flexvolume"));
    expect(problems).toEqual(
      expect.arrayContaining([
        'spec.flexVolume: spec.type is "flexvolume", so spec.flexVolume is required',
        'spec.csi: spec.type is "flexvolume"; spec.csi does not apply',
      ]),
    );
  });

  test("suggestions only for plausible typos", () => {
    expect(closest("RWx", ["RWX", "block"])).toBe("RWX");
    expect(closest("completelyDifferent", ["RWX", "block"])).toBeUndefined();
  });

  test("an upstream storage.testdriver file (format of csi-driver-host-path's) maps over", () => {
    const upstream = `
StorageClass:
  FromName: true
SnapshotClass:
  FromName: true
DriverInfo:
  Name: hostpath.csi.k8s.io
  SupportedFsType: { "": {}, ext4: {}, xfs: {} }
  Capabilities: { block: true, controllerExpansion: true, exec: true, multipods: true, persistence: true, singleNodeVolume: true, topology: true }
Timeouts:
  PodStart: 6m
`;
    const { definition, format } = parseDriverText(upstream, "test-driver.yaml");
    expect(format).toBe("upstream");
    expect(definition.spec.csi?.driverName).toBe("hostpath.csi.k8s.io");
    expect(definition.spec.capabilities).toMatchObject({ block: true, singleNodeVolume: true, persistence: true });
    expect(definition.spec.supportedFsTypes).toEqual(["", "ext4", "xfs"]);
    expect(definition.spec.storageClasses[0]?.provisioner).toBe("hostpath.csi.k8s.io");
    expect(definition.spec.timeouts.podStart).toBe("6m");
  });

  test("a typo in an upstream file is rejected too (upstream would silently ignore it)", () => {
    expect(() => parseDriverText("DriverInfo:\n  Name: x\n  Capabilities: { persistense: true }\n", "t.yaml")).toThrow(
      /did you mean "persistence"/,
    );
  });

  test("Kubernetes' own example storage.testdriver file loads as-is (read from the Go module cache)", () => {
    const env = {
      ...process.env,
      GOFLAGS: "-mod=mod",
      GOWORK: "off",
      GOTOOLCHAIN: "local",
      GOMODCACHE: process.env["VOLCERT_CACHE"]
        ? join(process.env["VOLCERT_CACHE"], "go/mod")
        : join(process.env["HOME"] ?? "/root", ".cache/volcert/go/mod"),
    };
    const info = JSON.parse(
      execFileSync("go", ["mod", "download", "-json", "k8s.io/kubernetes@v1.34.10"], {
        encoding: "utf8",
        env,
        cwd: "/",
      }),
    ) as { Dir: string };
    const file = join(info.Dir, "test/e2e/storage/external/testdata/example.yaml");
    expect(existsSync(file)).toBe(true);
    const { definition } = parseDriverText(readFileSync(file, "utf8"), file);
    expect(definition.spec.capabilities.persistence).toBe(true);
    expect(definition.spec.capabilities.volumeLimits).toBe(false);
  }, 120_000);

  test("skip reasons name the missing capability, decided without a cluster", () => {
    const { definition } = parseDriverText(valid, "driver.yaml");
    expect(skipReason(definition, { capabilities: ["persistence"] })).toBeNull();
    expect(skipReason(definition, { capabilities: ["RWX"] })).toBe('driver does not declare capability "RWX"');
    expect(
      skipReason({ ...definition, spec: { ...definition.spec, unsupportedHere: "no NFS client in this kernel" } }, {}),
    ).toBe("cannot run on this machine: no NFS client in this kernel");
  });

  test("the published JSON Schema is up to date (regenerate: npm run volcert -- drivers schema > fixtures/drivers/driver.schema.json)", () => {
    const published = readFileSync(new URL("../../fixtures/drivers/driver.schema.json", import.meta.url), "utf8");
    expect(published).toBe(driverJsonSchemaText());
  });
});
