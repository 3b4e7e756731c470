import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { isKubeadmFailure } from "./provider.ts";

const recorded = (f: string) => readFileSync(new URL(`../../fixtures/recorded/${f}`, import.meta.url), "utf8");

describe("kind create failures worth one more try", () => {
  test("kubeadm init timing out on an overloaded host (recorded)", () => {
    expect(isKubeadmFailure(recorded("kind-create-kubeadm-init-overloaded.txt"))).toBe(true);
  });

  test("other failures are not retried", () => {
    expect(
      isKubeadmFailure('ERROR: failed to create cluster: node(s) already exist for a cluster with the name "x"'),
    ).toBe(false);
    expect(isKubeadmFailure("ERROR: failed to create cluster: failed to pull image: No such image")).toBe(false);
  });
});
