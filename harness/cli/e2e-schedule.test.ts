import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { caseConcurrency, e2eFileOrder, fileWorkers, FIRST_SUITE, SUITE_WEIGHT, suiteOf } from "./e2e-schedule.ts";

const file = (moduleId: string, project = "e2e") => ({ moduleId, project: { name: project } });

describe("e2e schedule", () => {
  test("concurrency: 4 cases and 3 files without the CLI's settings, the CLI's integers otherwise, nonsense refused", () => {
    expect(caseConcurrency(undefined)).toBe(4);
    expect(caseConcurrency("")).toBe(4);
    expect(caseConcurrency("10")).toBe(10);
    for (const bad of ["0", "33", "2.5", "ten", "-1"]) expect(() => caseConcurrency(bad)).toThrow(/1 to 32/);
    expect(fileWorkers(undefined)).toBe(3);
    expect(fileWorkers("5")).toBe(5);
    for (const bad of ["0", "9", "1.5"]) expect(() => fileWorkers(bad)).toThrow(/VOLCERT_E2E_FILES=.*1 to 8/);
  });

  test("suite directory of a test file", () => {
    expect(suiteOf("/work/x/suites/access-modes/access-modes.e2e.test.ts")).toBe("access-modes");
    expect(suiteOf("suites/smoke/cluster.e2e.test.ts")).toBe("smoke");
    expect(suiteOf("/work/x/suites/binding/more/nested.e2e.test.ts")).toBe("binding");
    expect(suiteOf("/work/x/harness/cli/plan.test.ts")).toBeUndefined();
  });

  test("smoke, then the longest suites first within a project; equal weights and projects keep their order", () => {
    const order = e2eFileOrder([
      file("/r/suites/limits/limits.e2e.test.ts"),
      file("/r/suites/new-area/new.e2e.test.ts"),
      file("/r/suites/binding/binding.e2e.test.ts"),
      file("/r/suites/smoke/cluster.e2e.test.ts"),
      file("/r/suites/access-modes/access-modes.e2e.test.ts"),
      file("/r/suites/other/other.e2e.test.ts"),
      file("/r/suites/constructor/odd.e2e.test.ts"),
      file("/r/suites/selftest/broken-drivers.selftest.test.ts", "selftest"),
      file("/r/suites/reclaim/reclaim.e2e.test.ts", "selftest"),
    ]).map((f) => `${f.project.name}:${suiteOf(f.moduleId)}`);
    expect(order).toEqual([
      "e2e:smoke",
      "e2e:access-modes",
      "e2e:binding",
      "e2e:limits",
      "e2e:new-area",
      "e2e:other",
      "e2e:constructor",
      "selftest:reclaim",
      "selftest:selftest",
    ]);
  });

  test("every e2e test file under suites/ belongs to a weighed suite (or the smoke check), and no weight is stale", () => {
    const root = fileURLToPath(new URL("../../suites/", import.meta.url));
    const files = readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".e2e.test.ts"))
      .map((f) => `suites/${f}`);
    expect(files.length).toBeGreaterThan(10);
    const suites = new Set(files.map((f) => suiteOf(f)));
    for (const f of files) expect([FIRST_SUITE, ...SUITE_WEIGHT.keys()], f).toContain(suiteOf(f));
    expect([...SUITE_WEIGHT.keys()].filter((s) => !suites.has(s))).toEqual([]);
  });
});
