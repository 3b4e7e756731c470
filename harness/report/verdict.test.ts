import { describe, expect, test } from "vitest";
import { parseDriverText } from "../drivers/load.ts";
import { declarationNotes, profileFor, verdictFor, type CaseResult, type CatalogCase } from "./verdict.ts";

/** A driver file declaring these capabilities (YAML flow map). */
const declaring = (capabilities: string) =>
  parseDriverText(
    `apiVersion: volcert.io/v1alpha1
kind: Driver
metadata: { name: demo }
spec:
  type: in-tree
  inTree: { plugin: hostPath }
  capabilities: ${capabilities}
`,
    "driver.yaml",
  ).definition;

const driver = declaring("{ persistence: true }");

const catalog: CatalogCase[] = [
  { id: "SMOKE-01", area: "SMOKE", perDriver: false },
  { id: "AM-01", area: "AM", perDriver: true, requires: { capabilities: ["persistence"] } },
  { id: "AM-04", area: "AM", perDriver: true, requires: { accessModes: ["ReadWriteMany"] } },
  { id: "NF-01", area: "NF", perDriver: true, requires: { nodeLifecycle: true } },
];

const r = (id: string, status: CaseResult["status"], extra: Partial<CaseResult> = {}): CaseResult => ({
  id,
  title: id,
  driver: "demo",
  status,
  ...extra,
});

describe("certification verdict", () => {
  test("the profile is what the driver declares; the environment's needs stay in it", () => {
    const p = profileFor(driver, catalog);
    expect(p.applicable).toEqual(["AM-01", "NF-01"]);
    expect(p.outside).toEqual([{ id: "AM-04", reason: "driver does not offer access mode ReadWriteMany" }]);
  });

  test("every profile case passed: CERTIFIED, whatever happened outside the profile", () => {
    const v = verdictFor(
      profileFor(driver, catalog),
      [r("AM-01", "passed"), r("NF-01", "passed"), r("AM-04", "skipped")],
      {
        failOnSkip: true,
      },
    );
    expect(v.verdict).toBe("CERTIFIED");
    expect(v.gate).toBe("pass");
    expect(v.areas["AM"]).toEqual({ passed: ["AM-01"], failed: [], skipped: [{ id: "AM-04", reason: "skipped" }] });
  });

  test("a driver failure is NOT CERTIFIED; an infrastructure failure leaves it INCOMPLETE", () => {
    const p = profileFor(driver, catalog);
    expect(
      verdictFor(p, [r("AM-01", "failed", { blame: "driver" }), r("NF-01", "passed")], { failOnSkip: false }),
    ).toMatchObject({
      verdict: "NOT CERTIFIED",
      gate: "driver",
      reasons: ["AM-01 failed (driver)"],
    });
    expect(
      verdictFor(p, [r("AM-01", "failed", { blame: "infrastructure" }), r("NF-01", "passed")], { failOnSkip: false }),
    ).toMatchObject({ verdict: "INCOMPLETE", gate: "pass" });
  });

  test("a profile case skipped by the environment is INCOMPLETE; --fail-on-skip makes it fail the gate", () => {
    const p = profileFor(driver, catalog);
    const results = [r("AM-01", "passed"), r("NF-01", "skipped", { skipReason: "needs control of the nodes" })];
    expect(verdictFor(p, results, { failOnSkip: false })).toMatchObject({ verdict: "INCOMPLETE", gate: "pass" });
    const strict = verdictFor(p, results, { failOnSkip: true });
    expect(strict).toMatchObject({ verdict: "INCOMPLETE", gate: "config" });
    expect(strict.reasons).toEqual(["NF-01 is in the profile but did not run: needs control of the nodes"]);
  });

  test("--require of a capability the driver does not declare is the driver's gate failure", () => {
    const p = profileFor(driver, catalog, ["AM"]);
    expect(p.required).toEqual(["AM-01", "AM-04"]);
    const v = verdictFor(p, [r("AM-01", "passed"), r("NF-01", "passed"), r("AM-04", "skipped")], { failOnSkip: false });
    expect(v).toMatchObject({ verdict: "NOT CERTIFIED", gate: "driver" });
    expect(v.reasons[0]).toMatch(
      /AM-04 is required \(--require\) but did not run: driver does not offer access mode ReadWriteMany/,
    );
  });
});

describe("declaration notes", () => {
  test("node-local volumes without topology: the scheduler cannot place pods where the data is", () => {
    expect(declarationNotes(declaring("{ persistence: true, singleNodeVolume: true }"))).toEqual([
      expect.stringMatching(/^singleNodeVolume without topology: the scheduler cannot place pods/),
    ]);
    expect(profileFor(declaring("{ persistence: true, singleNodeVolume: true }"), catalog).notes).toHaveLength(1);
  });

  test("with topology, or for storage that follows the pod, nothing to note", () => {
    expect(declarationNotes(declaring("{ persistence: true, singleNodeVolume: true, topology: true }"))).toEqual([]);
    expect(declarationNotes(declaring("{ persistence: true }"))).toEqual([]);
  });
});
