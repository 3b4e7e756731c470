import { parseAllDocuments } from "yaml";
import { describe, expect, test } from "vitest";
import { netdManifest } from "./netd-manifest.ts";

describe("pod network manifest", () => {
  const text = netdManifest("volcert/netd:0.1.0");

  test("carries both kind markers (template the pod subnet, patch in the API endpoint)", () => {
    expect(text).toContain("would you kindly template this file");
    expect(text).toContain("would you kindly patch this file");
    expect(text).toContain("{{ .PodSubnet }}");
  });

  test("the DaemonSet's first container has an env list kind can append to", () => {
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    const ds = docs.find((d) => d.kind === "DaemonSet");
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    expect(Array.isArray(ds.spec.template.spec.containers[0].env)).toBe(true);
    expect(ds.spec.template.spec.containers[0].image).toBe("volcert/netd:0.1.0");
    expect(docs.map((d) => d.kind)).toEqual(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"]);
  });
});
