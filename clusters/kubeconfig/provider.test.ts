import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../../harness/core/errors.ts";
import { checkKubeconfig } from "./provider.ts";

const recorded = readFileSync(
  new URL("../../fixtures/recorded/kind-kubeconfig-redacted.yaml", import.meta.url),
  "utf8",
);

describe("bring-your-own kubeconfig checks", () => {
  test("a kubeconfig written by kind resolves to its context and API server", () => {
    const r = checkKubeconfig(recorded, "kubeconfig");
    expect(r.context).toMatch(/^kind-volcert-/);
    expect(r.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test("a missing context is named, with the contexts that exist", () => {
    expect(() => checkKubeconfig(recorded, "kubeconfig", "prod")).toThrow(ConfigError);
    try {
      checkKubeconfig(recorded, "kubeconfig", "prod");
    } catch (e) {
      expect((e as ConfigError).problems[0]).toMatch(/context "prod" not found \(have: kind-volcert-/);
    }
  });

  test("a context pointing at an undefined cluster, and broken YAML, are reported", () => {
    const dangling = recorded.replace(/cluster: kind-volcert-[\w-]+\n/, "cluster: nowhere\n");
    expect(() => checkKubeconfig(dangling, "k")).toThrow(/refers to cluster "nowhere"/);
    expect(() => checkKubeconfig("a: [", "k")).toThrow(/not valid YAML/);
  });
});
