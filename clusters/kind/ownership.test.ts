import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isVolcertContainer } from "./ownership.ts";

interface Labelled {
  name: string;
  labels: Record<string, string>;
}
const inspected = (
  JSON.parse(
    readFileSync(join(import.meta.dirname, "../../fixtures/recorded/docker-inspect-kind-node-running.json"), "utf8"),
  ) as { Name: string; Config: { Labels: Record<string, string> } }[]
)[0]!;
const recordedNode: Labelled = { name: inspected.Name.slice(1), labels: inspected.Config.Labels };
// The same node image in a kind cluster someone else named: it carries io.volcert.managed too.
const foreignKindNode: Labelled = {
  ...recordedNode,
  name: "dev-control-plane",
  labels: { ...recordedNode.labels, "io.x-k8s.kind.cluster": "dev", "io.x-k8s.kind.role": "control-plane" },
};
const assembly: Labelled = { name: "volcert-assemble-1", labels: { "io.volcert.managed": "true" } };
const postgres: Labelled = { name: "postgres", labels: {} };

describe("which containers are volcert's", () => {
  test("nodes of kind clusters named volcert-*, and labelled containers outside kind clusters", () => {
    expect(isVolcertContainer(recordedNode)).toBe(true);
    expect(isVolcertContainer(assembly)).toBe(true);
  });

  test("the managed label baked into the node image is no proof: another kind cluster is foreign", () => {
    expect(foreignKindNode.labels["io.volcert.managed"]).toBe("true");
    expect(isVolcertContainer(foreignKindNode)).toBe(false);
    expect(isVolcertContainer(postgres)).toBe(false);
  });
});
