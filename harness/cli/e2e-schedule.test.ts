import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { caseConcurrency, heaviestFirst, SUITE_WEIGHT, suiteOf } from "./e2e-schedule.ts";

const file = (moduleId: string, project = "e2e") => ({ moduleId, project: { name: project } });

describe("e2e schedule", () => {
  test("concurrency: 4 without the CLI's setting, the CLI's integer otherwise, nonsense refused", () => {
    expect(caseConcurrency(undefined)).toBe(4);
    expect(caseConcurrency("")).toBe(4);
    expect(caseConcurrency("10")).toBe(10);
    for (const bad of ["0", "33", "2.5", "ten", "-1"]) expect(() => caseConcurrency(bad)).toThrow(/1 to 32/);
  });

  test("suite directory of a test file", () => {
    expect(suiteOf("/work/x/suites/access-modes/access-modes.e2e.test.ts")).toBe("access-modes");
    expect(suiteOf("suites/smoke/cluster.e2e.test.ts")).toBe("smoke");
    expect(suiteOf("/work/x/harness/cli/plan.test.ts")).toBeUndefined();
  });

  test("smoke, then heaviest suites first within a project; unweighted files and projects keep their order", () => {
    const order = heaviestFirst([
      file("/r/suites/smoke/cluster.e2e.test.ts"),
      file("/r/suites/new-area/new.e2e.test.ts"),
      file("/r/suites/binding/binding.e2e.test.ts"),
      file("/r/suites/access-modes/access-modes.e2e.test.ts"),
      file("/r/suites/other/other.e2e.test.ts"),
      file("/r/suites/selftest/broken-drivers.selftest.test.ts", "selftest"),
      file("/r/suites/reclaim/reclaim.e2e.test.ts", "selftest"),
    ]).map((f) => `${f.project.name}:${suiteOf(f.moduleId)}`);
    expect(order).toEqual([
      "e2e:smoke",
      "e2e:access-modes",
      "e2e:binding",
      "e2e:new-area",
      "e2e:other",
      "selftest:reclaim",
      "selftest:selftest",
    ]);
  });

  test("every e2e suite directory has a weight, and every weight names a suite directory", () => {
    const dirs = readdirSync(new URL("../../suites/", import.meta.url), { withFileTypes: true })
      .filter(
        (d) =>
          d.isDirectory() &&
          readdirSync(new URL(`../../suites/${d.name}/`, import.meta.url)).some((f) => f.endsWith(".e2e.test.ts")),
      )
      .map((d) => d.name)
      .sort();
    expect(Object.keys(SUITE_WEIGHT).sort()).toEqual(dirs);
  });
});
