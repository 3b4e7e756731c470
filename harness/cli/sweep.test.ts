import { describe, expect, test } from "vitest";
import { classifyClusters, staleStateDirs } from "./cluster-commands.ts";
import type { OpenEntry } from "./cluster-health.ts";

const entry = (cluster: string, live: boolean, created: boolean): OpenEntry => ({
  id: `${cluster}-${live}`,
  runId: live ? "run-live" : "run-dead",
  what: `kind cluster ${cluster}`,
  at: "",
  cluster: { name: cluster, provider: "kind", kubeconfig: "/k" },
  record: { kind: "cluster", created },
  live,
});

describe("sweep selects only what ended runs of volcert left", () => {
  // `kind get clusters` on an engine shared with other jobs and users.
  const clusters = [
    "kind",
    "volcert-ci-7",
    "volcert-dev",
    "volcert-from-image",
    "volcert-killed",
    "volcert-old",
    "volcert-reused",
  ];
  const entries = [
    entry("volcert-ci-7", true, true), // a run in progress (another CI job): never touched
    entry("volcert-dev", false, true), // kept by a run that has ended (--keep-cluster)
    entry("volcert-killed", false, true), // its run was killed (kill -9) before deleting it
    entry("volcert-reused", true, false), // kept earlier, now reused by a live run
  ];
  const createdJson = new Set(["volcert-old", "volcert-reused"]); // state dir says volcert made it
  const keptMarker = new Set(["volcert-dev"]);
  const plan = classifyClusters(
    clusters,
    entries,
    (n) => createdJson.has(n),
    (n) => keptMarker.has(n),
  );

  test("a live run's cluster is kept, whether it created or reuses it", () => {
    expect(plan.inUse.map((c) => c.name)).toEqual(["volcert-ci-7", "volcert-reused"]);
  });
  test("clusters volcert created whose runs ended are removed, unless kept on purpose", () => {
    expect(plan.dead.map((c) => c.name)).toEqual(["volcert-killed", "volcert-old"]);
    expect(plan.kept.map((c) => c.name)).toEqual(["volcert-dev"]);
  });
  test("a cluster with no record of volcert creating it is not volcert's, whatever its name or image", () => {
    expect(plan.unknown.map((c) => c.name)).toEqual(["kind", "volcert-from-image"]);
  });
});

describe("sweep removes the state directories (shared storage included) of clusters that are gone", () => {
  test("only volcert's, and never one kind lists or a live run holds", () => {
    const dirs = ["volcert-gone", "volcert-live", "volcert-starting", "other-tool", "volcert-kept"];
    // A kept cluster is listed by kind; a run's cluster has its directory before kind lists it.
    expect(staleStateDirs(dirs, ["volcert-live", "volcert-kept", "volcert-starting"])).toEqual(["volcert-gone"]);
  });
});
