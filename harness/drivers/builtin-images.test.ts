import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ConfigError } from "../core/errors.ts";
import { builtinImageFor, effectiveRewrites, parseImageRef, sidecarVersionProblems } from "./builtin-images.ts";
import type { K8sObject } from "./csi-manifests.ts";
import { loadDriverFile } from "./load.ts";

/** The shape of the table clusters/images/sidecars.ts makes (harness/ may not import it). */
const TABLE = {
  "registry.k8s.io/sig-storage/csi-attacher:v4.12.0": "volcert/csi-attacher:v4.12.0",
  "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0": "volcert/csi-provisioner:v6.3.0",
  "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.9.0": "volcert/csi-node-driver-registrar:0.1.0",
  "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.18.1": "volcert/csi-node-driver-registrar:0.1.0",
};

function deployment(...images: string[]): K8sObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "ctrl", namespace: "acme" },
    spec: { template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
  };
}

describe("image references", () => {
  test("tag, digest and registry port are told apart", () => {
    expect(parseImageRef("registry.k8s.io/sig-storage/csi-attacher:v4.12.0")).toEqual({
      repository: "registry.k8s.io/sig-storage/csi-attacher",
      tag: "v4.12.0",
      digest: null,
    });
    expect(parseImageRef("localhost:5000/csi@sha256:abc")).toEqual({
      repository: "localhost:5000/csi",
      tag: null,
      digest: "sha256:abc",
    });
    expect(parseImageRef("a/b:v1@sha256:abc")).toEqual({ repository: "a/b", tag: "v1", digest: "sha256:abc" });
  });

  test("a digest-pinned upstream tag maps to volcert's build of that tag", () => {
    expect(builtinImageFor("registry.k8s.io/sig-storage/csi-attacher:v4.12.0@sha256:0123", TABLE)).toBe(
      "volcert/csi-attacher:v4.12.0",
    );
    expect(builtinImageFor("registry.k8s.io/sig-storage/csi-attacher@sha256:0123", TABLE)).toBeUndefined();
  });
});

describe("built-in rewrites", () => {
  test("apply to the images the driver does not map itself; the driver's own win", () => {
    const objects = [
      deployment(
        "registry.k8s.io/sig-storage/csi-attacher:v4.12.0",
        "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0",
        "acme/plugin:1.0",
      ),
    ];
    const own = { "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0": "acme/provisioner:patched" };
    const { rewrites, builtinUsed } = effectiveRewrites(objects, own, TABLE);
    expect(rewrites).toEqual({
      "registry.k8s.io/sig-storage/csi-attacher:v4.12.0": "volcert/csi-attacher:v4.12.0",
      "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0": "acme/provisioner:patched",
    });
    expect(builtinUsed).toEqual(["registry.k8s.io/sig-storage/csi-attacher:v4.12.0 → volcert/csi-attacher:v4.12.0"]);
  });

  test("no table, no built-in rewrites", () => {
    const objects = [deployment("registry.k8s.io/sig-storage/csi-attacher:v4.12.0")];
    expect(effectiveRewrites(objects, {}).rewrites).toEqual({});
    expect(sidecarVersionProblems(objects, {}, {})).toEqual([]);
  });
});

describe("another version of a sidecar volcert builds", () => {
  test("is a problem naming the version built and the mapping to use", () => {
    const problems = sidecarVersionProblems(
      [deployment("registry.k8s.io/sig-storage/csi-attacher:v4.8.0", "acme/plugin:1.0")],
      {},
      TABLE,
    );
    expect(problems).toEqual([
      expect.stringContaining(
        "volcert builds csi-attacher v4.12.0; the manifest uses v4.8.0: map it with spec.csi.imageRewrites to volcert/csi-attacher:v4.12.0 if that version is fine for your driver",
      ),
    ]);
    expect(problems[0]).toMatch(
      /^Deployment acme\/ctrl, container c0 runs registry\.k8s\.io\/sig-storage\/csi-attacher:v4\.8\.0:/,
    );
  });

  test("stand-ins name every tag they answer to, newest last; old registry names and missing tags count", () => {
    const problems = sidecarVersionProblems(
      [
        deployment(
          "k8s.gcr.io/sig-storage/csi-node-driver-registrar:v2.5.0",
          "registry.k8s.io/sig-storage/csi-attacher",
          "registry.k8s.io/sig-storage/csi-attacher",
        ),
      ],
      {},
      TABLE,
    );
    expect(problems).toEqual([
      expect.stringContaining(
        "volcert offers csi-node-driver-registrar as v2.9.0, v2.18.1; the manifest uses v2.5.0: map it with spec.csi.imageRewrites to volcert/csi-node-driver-registrar:0.1.0",
      ),
      expect.stringContaining("the manifest uses no tag (latest)"),
    ]);
  });

  test("is the driver's choice once it maps the image, even to itself", () => {
    const image = "registry.k8s.io/sig-storage/csi-attacher:v4.8.0";
    expect(sidecarVersionProblems([deployment(image)], { [image]: image }, TABLE)).toEqual([]);
  });
});

describe("driver files with the built-in table", () => {
  const dir = mkdtempSync(join(tmpdir(), "volcert-builtin-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const driverFile = (rewrites: string) => `apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: acme }
spec:
  type: csi
  csi:
    driverName: csi.acme.example.com
    manifests: [deploy.yaml]
    imageRewrites: {${rewrites}}
    node: { kind: DaemonSet, name: acme-node, namespace: kube-system }
  storageClasses: [{ name: acme, provisioner: csi.acme.example.com }]
`;
  const manifest = (attacher: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: acme-node, namespace: kube-system }
spec:
  selector: { matchLabels: { app: acme } }
  template:
    metadata: { labels: { app: acme } }
    spec:
      containers:
        - { name: plugin, image: "acme/plugin:1.0" }
        - { name: registrar, image: "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.18.1" }
        - { name: attacher, image: "${attacher}" }
`;
  const write = (name: string, attacher: string, rewrites = "") => {
    writeFileSync(join(dir, `${name}.yaml`), driverFile(rewrites));
    writeFileSync(join(dir, "deploy.yaml"), manifest(attacher));
    return join(dir, `${name}.yaml`);
  };

  test("upstream sidecar names load as the local images", async () => {
    const d = await loadDriverFile(write("ok", "registry.k8s.io/sig-storage/csi-attacher:v4.12.0"), {
      builtinRewrites: TABLE,
    });
    expect(d.images).toEqual([
      "acme/plugin:1.0",
      "volcert/csi-attacher:v4.12.0",
      "volcert/csi-node-driver-registrar:0.1.0",
    ]);
    expect(d.notes).toContain(
      "image built by volcert: registry.k8s.io/sig-storage/csi-attacher:v4.12.0 → volcert/csi-attacher:v4.12.0",
    );
  });

  test("an unbuilt sidecar version is a ConfigError at validation", async () => {
    const err = await loadDriverFile(write("old", "registry.k8s.io/sig-storage/csi-attacher:v4.8.0"), {
      builtinRewrites: TABLE,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringContaining("volcert builds csi-attacher v4.12.0; the manifest uses v4.8.0"),
    ]);
  });

  test("the driver's own mapping of that version is accepted", async () => {
    const file = write(
      "mapped",
      "registry.k8s.io/sig-storage/csi-attacher:v4.8.0",
      '"registry.k8s.io/sig-storage/csi-attacher:v4.8.0": "volcert/csi-attacher:v4.12.0"',
    );
    const d = await loadDriverFile(file, { builtinRewrites: TABLE });
    expect(d.images).toContain("volcert/csi-attacher:v4.12.0");
  });
});
