import { readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, test } from "vitest";
import type { K8sObject } from "./csi-manifests.ts";
import { checkRendered, isHook, parseRendered, postRender } from "./helm-render.ts";
import { installArgs, templateArgs, uninstallArgs, valueArgs } from "./helm.ts";
import { parseDriverText } from "./load.ts";

/** Real `helm template` output (helm v3.22.0) of the Helm fixture, with its recording header. */
const RECORDED = readFileSync(
  new URL("../../fixtures/recorded/helm-template-csi-hostpath-helm.yaml", import.meta.url),
  "utf8",
);

const DRIVER = `apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: acme }
spec:
  type: csi
  helm:
    chart: chart
    release: acme
    namespace: acme-system
    values: [values.yaml, more.yaml]
    set: { image.tag: "1.0", node.replicas: 2, debug: false }
  csi:
    driverName: helm.hostpath.csi.volcert.io
    imageRewrites: { "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0": volcert/csi-provisioner:v6.3.0 }
    node: { kind: DaemonSet, name: csi-hostpath-helm-node, namespace: acme-system }
    expect: { attachRequired: false }
  storageClasses: [{ name: acme, provisioner: helm.hostpath.csi.volcert.io }]
  timeouts: { install: 90s }
`;
const d = parseDriverText(DRIVER, "driver.yaml").definition;

const hook = (image: string, policy?: string): string => `---
apiVersion: batch/v1
kind: Job
metadata:
  name: pre-install
  annotations: { helm.sh/hook: pre-install }
spec:
  template:
    spec:
      containers: [{ name: setup, image: "${image}"${policy ? `, imagePullPolicy: ${policy}` : ""} }]
`;

describe("a chart's rendered output", () => {
  test("objects without a namespace land in the release namespace, cluster-wide ones stay cluster-wide", () => {
    const r = parseRendered(RECORDED, "acme-system");
    expect(r.problems).toEqual([]);
    const where = Object.fromEntries(r.objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o.metadata?.namespace]));
    expect(where).toEqual({
      "ServiceAccount/csi-hostpath-helm": "volcert-csi-hostpath-helm", // the chart sets it: kept
      "ClusterRole/volcert-csi-hostpath-helm-provisioner": undefined,
      "ClusterRoleBinding/volcert-csi-hostpath-helm-provisioner": undefined,
      "DaemonSet/csi-hostpath-helm-node": "volcert-csi-hostpath-helm",
      "CSIDriver/helm.hostpath.csi.volcert.io": undefined,
    });
    const bare = parseRendered("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n", "acme-system");
    expect(bare.objects[0]?.metadata?.namespace).toBe("acme-system");
  });

  test("hooks are kept apart from the release's objects", () => {
    const r = parseRendered(RECORDED + hook("acme/setup:1"), "acme-system");
    expect(r.hooks.map((o) => o.metadata?.name)).toEqual(["pre-install"]);
    expect(r.objects.some(isHook)).toBe(false);
  });

  test("the cross-checks of manifests apply, every problem at once", () => {
    const r = parseRendered(RECORDED, "acme-system");
    // The fixture's chart puts the DaemonSet in volcert-csi-hostpath-helm, not acme-system.
    expect(checkRendered(d, r).problems).toEqual([
      "spec.csi.node: no manifest defines DaemonSet acme-system/csi-hostpath-helm-node (DaemonSets in the manifests: volcert-csi-hostpath-helm/csi-hostpath-helm-node)",
      "namespace volcert-csi-hostpath-helm is used by ServiceAccount/csi-hostpath-helm, DaemonSet/csi-hostpath-helm-node but no manifest creates it (add a Namespace object)",
    ]);
  });

  test("the release namespace counts as created; the chart must not define it too", () => {
    const ours = RECORDED.replaceAll("volcert-csi-hostpath-helm\n", "acme-system\n");
    expect(checkRendered(d, parseRendered(ours, "acme-system"))).toEqual({
      problems: [],
      notes: [],
      images: ["volcert/csi-hostpath:0.1.0", "volcert/csi-provisioner:v6.3.0"],
      rewrites: d.spec.csi!.imageRewrites,
    });
    const withNs = `${ours}---\napiVersion: v1\nkind: Namespace\nmetadata: { name: acme-system }\n`;
    expect(checkRendered(d, parseRendered(withNs, "acme-system")).problems).toEqual([
      "the chart defines Namespace acme-system, the release namespace: set spec.helm.createNamespace to false (volcert would create it first, and Helm refuses to adopt it)",
    ]);
  });

  test("hooks: Helm 3 does not post-render them, so a rewritten image or a pull policy Always is an error", () => {
    const ours = RECORDED.replaceAll("volcert-csi-hostpath-helm\n", "acme-system\n");
    const r = parseRendered(ours + hook("registry.k8s.io/sig-storage/csi-provisioner:v6.3.0", "Always"), "acme-system");
    expect(checkRendered(d, r).problems).toEqual([
      "hook Job/pre-install container setup: runs registry.k8s.io/sig-storage/csi-provisioner:v6.3.0, which spec.csi.imageRewrites maps, but Helm 3 does not post-render hooks: make the chart's values name volcert/csi-provisioner:v6.3.0 instead",
      "hook Job/pre-install container setup: imagePullPolicy Always would make the kubelet pull from a registry (there is none), and Helm 3 does not post-render hooks: set IfNotPresent in the chart",
    ]);
    const fine = checkRendered(d, parseRendered(ours + hook("acme/setup:1"), "acme-system"));
    expect(fine.problems).toEqual([]);
    expect(fine.images).toContain("acme/setup:1");
  });

  test("the sidecars volcert builds are rewritten for the release too, but cannot be for a hook", () => {
    const ours = RECORDED.replaceAll("volcert-csi-hostpath-helm\n", "acme-system\n");
    const attacher = "registry.k8s.io/sig-storage/csi-attacher:v4.12.0";
    const builtin = { [attacher]: "volcert/csi-attacher:v4.12.0" };
    const withSidecar = ours.replace(
      "- name: csi-provisioner\n",
      `- name: csi-attacher\n          image: ${attacher}\n        - name: csi-provisioner\n`,
    );
    const check = checkRendered(d, parseRendered(withSidecar, "acme-system"), builtin);
    expect(check.problems).toEqual([]);
    expect(check.rewrites).toEqual({ ...d.spec.csi!.imageRewrites, ...builtin });
    expect(check.images).toContain("volcert/csi-attacher:v4.12.0");
    expect(checkRendered(d, parseRendered(ours + hook(attacher), "acme-system"), builtin).problems).toEqual([
      `hook Job/pre-install container setup: runs ${attacher}, which volcert offers as a local build, but Helm 3 does not post-render hooks: make the chart's values name volcert/csi-attacher:v4.12.0 instead`,
    ]);
  });

  test("a render that is not Kubernetes objects is named, not installed", () => {
    const r = parseRendered("---\nkind: ConfigMap\n---\n- a\n", "ns");
    expect(r.problems).toEqual([
      "the rendered chart (document 1): not a Kubernetes object: no apiVersion, metadata.name",
      "the rendered chart (document 2): not a Kubernetes object (a YAML mapping with apiVersion, kind, metadata)",
    ]);
  });
});

describe("the post-renderer", () => {
  test("rewrites images and pull policies like the manifest installer, and keeps everything else", () => {
    const body = RECORDED.replace(/^(#[^\n]*\n)+/, "");
    const out = postRender(body, d.spec.csi!.imageRewrites);
    const before = parseAllDocuments(body)
      .map((x) => x.toJS() as K8sObject | null)
      .filter((o) => o);
    const after = parseAllDocuments(out).map((x) => x.toJS() as K8sObject);
    expect(after.length).toBe(before.length);
    const ds = after.find((o) => o.kind === "DaemonSet") as {
      spec: { template: { spec: { containers: { image: string; imagePullPolicy: string }[] } } };
    };
    expect(ds.spec.template.spec.containers.map((c) => [c.image, c.imagePullPolicy])).toEqual([
      ["volcert/csi-hostpath:0.1.0", "IfNotPresent"],
      ["volcert/csi-provisioner:v6.3.0", "IfNotPresent"],
    ]);
    const untouched = (o: K8sObject | null) =>
      JSON.stringify(o).replace("registry.k8s.io/sig-storage/csi-provisioner", "volcert/csi-provisioner");
    expect(after.map(untouched)).toEqual(before.map(untouched));
  });

  test("an empty render stays empty", () => {
    expect(postRender("---\n# Source: x\n", {})).toBe("");
  });
});

describe("helm command lines", () => {
  const helm = d.spec.helm!;
  test("values in the driver file's order; --set-json keeps each value's type", () => {
    expect(valueArgs(helm, ["/d/values.yaml", "/d/more.yaml"])).toEqual([
      "--values",
      "/d/values.yaml",
      "--values",
      "/d/more.yaml",
      "--set-json",
      'image.tag="1.0"',
      "--set-json",
      "node.replicas=2",
      "--set-json",
      "debug=false",
    ]);
  });

  test("template, install and uninstall name the namespace, and the kubeconfig wherever a cluster is reached", () => {
    expect(templateArgs(helm, "/d/chart", [], "v1.34.10")).toEqual(
      expect.arrayContaining([
        "template",
        "acme",
        "/d/chart",
        "--namespace",
        "acme-system",
        "--kube-version",
        "v1.34.10",
      ]),
    );
    expect(templateArgs(helm, "/d/chart", [], "v1.34.10")).not.toContain("--kubeconfig");
    const install = installArgs(d, "/d/chart", [], "/k/config", { "a:1": "b:1" }, "/usr/bin/node");
    expect(install.slice(0, 8)).toEqual([
      "upgrade",
      "--install",
      "acme",
      "/d/chart",
      "--namespace",
      "acme-system",
      "--kubeconfig",
      "/k/config",
    ]);
    expect(install).not.toContain("--wait");
    expect(install).not.toContain("--create-namespace");
    expect(install).toEqual(expect.arrayContaining(["--timeout", "90s", "--post-renderer", "/usr/bin/node"]));
    const rewrites = install[install.lastIndexOf("--post-renderer-args") + 1]!;
    expect(parse(rewrites)).toEqual({ "a:1": "b:1" });
    expect(install[install.indexOf("--post-renderer-args") + 1]).toMatch(/harness\/drivers\/helm-post-render\.mjs$/);
    expect(uninstallArgs(d, "/k/config")).toEqual([
      "uninstall",
      "acme",
      "--namespace",
      "acme-system",
      "--kubeconfig",
      "/k/config",
      "--wait",
      "--timeout",
      "90s",
      "--ignore-not-found",
    ]);
  });
});
