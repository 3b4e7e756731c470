import { describe, expect, test } from "vitest";
import { CATEGORIES } from "../report/allure-report.ts";
import {
  clusterCaseCategory,
  categoryOf,
  ConfigError,
  DriverDefect,
  exitCodeFor,
  exitCodeForFailures,
  HarnessBug,
  InfraError,
} from "./errors.ts";
import { CommandError } from "./exec.ts";
import { DriverWaitTimeout, WaitTimeout } from "./wait.ts";

describe("whose failure is it: error → category → exit code → report category", () => {
  const command = new CommandError({
    command: "docker info",
    exitCode: 1,
    signal: null,
    stdout: "",
    stderr: "Cannot connect to the Docker daemon",
    durationMs: 10,
    ok: false,
  });
  // What Vitest hands back from a worker: the class is lost, own fields are kept.
  const serialised = (e: Error) => JSON.parse(JSON.stringify({ ...e, name: e.name, message: e.message })) as object;
  const assertion = Object.assign(new Error("expected 1 to be 2"), { name: "AssertionError" });
  const table: [string, unknown, string, number][] = [
    ["a driver wait timed out", new DriverWaitTimeout("PVC x Bound: not done", "PVC x Bound"), "driver", 1],
    ["a driver defect", new DriverDefect("leak check failed"), "driver", 1],
    ["a failed expect", assertion, "driver", 1],
    ["an infrastructure wait timed out", new WaitTimeout("nodes Ready: not done", "nodes Ready"), "infrastructure", 3],
    ["a command failed", command, "infrastructure", 3],
    ["bad input", new ConfigError("unknown driver"), "config", 2],
    ["a volcert bug", new HarnessBug("budget spent"), "harness", 4],
    ["an unexpected TypeError", new TypeError("x is undefined"), "harness", 4],
    ["something thrown that is not an Error", "oops", "harness", 4],
  ];
  for (const [what, err, category, code] of table) {
    test(`${what}: ${category}, exit ${code}`, () => {
      expect(categoryOf(err)).toBe(category);
      expect(exitCodeFor(err)).toBe(code);
      if (err instanceof Error) expect(categoryOf(serialised(err))).toBe(category);
    });
  }

  test("a run's exit code: the driver's failure first, then volcert's, bad input, infrastructure", () => {
    expect(exitCodeForFailures([])).toBe(0);
    expect(exitCodeForFailures(["infrastructure"])).toBe(3);
    expect(exitCodeForFailures(["infrastructure", "harness"])).toBe(4);
    expect(exitCodeForFailures(["infrastructure", "harness", "driver"])).toBe(1);
    expect(exitCodeForFailures(["config", "infrastructure"])).toBe(2);
  });

  test("every category has its own report category, matched on the blame label", () => {
    for (const c of ["driver", "infrastructure", "harness", "config"]) {
      const matching = CATEGORIES.filter((k) => {
        const labels = (k.matchers as { labels?: Record<string, string> }).labels;
        return labels && new RegExp(labels["blame"] ?? "^$").test(c);
      });
      expect(
        matching.map((k) => k.name),
        c,
      ).toHaveLength(1);
    }
  });

  test("volcert's own errors keep their category when Vitest serialises them", () => {
    expect(serialised(new InfraError("x"))).toMatchObject({ category: "infrastructure" });
  });
});

test("a failed assertion in a case that tests no driver is the cluster's, not a driver's", () => {
  expect(clusterCaseCategory("SMOKE-02 CoreDNS is Ready", "driver")).toBe("infrastructure");
  expect(clusterCaseCategory("ED-01 two containers share an emptyDir at different mount paths", "driver")).toBe(
    "infrastructure",
  );
  expect(clusterCaseCategory("AM-01 a RWO volume is writable [flex-loop]", "driver")).toBe("driver");
  expect(clusterCaseCategory("SMOKE-02 CoreDNS is Ready", "harness")).toBe("harness");
});
