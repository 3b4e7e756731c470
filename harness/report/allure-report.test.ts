import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { runAllure } from "./allure-report.ts";

// Allure results written by allure-vitest for four failing tests (a DriverDefect, a failed expect,
// an InfraError and a TypeError), each labelled by harness/case/worker-setup.ts.
const RESULTS = fileURLToPath(new URL("../../fixtures/recorded/allure-results-blame/", import.meta.url));

describe("the report sorts failures by whose they are", () => {
  test("a driver failure, an infrastructure failure and a volcert bug land in three categories", async () => {
    const dir = mkdtempSync(join(tmpdir(), "volcert-report-"));
    await runAllure(
      { resultsDir: RESULTS, outDir: join(dir, "out"), configDir: dir, name: "t" },
      { singleFile: false },
    );
    const widget = JSON.parse(readFileSync(join(dir, "out", "widgets", "categories.json"), "utf8")) as {
      roots: string[];
      nodes: Record<string, { name: string; childrenIds?: string[] }>;
    };
    const tests = (id: string): string[] =>
      (widget.nodes[id]?.childrenIds ?? []).flatMap((c) =>
        widget.nodes[c]?.childrenIds?.length ? tests(c) : [widget.nodes[c]?.name ?? ""],
      );
    const byCategory = Object.fromEntries(
      widget.roots.map((r) => [widget.nodes[r]?.name.split(" (")[0], tests(r).sort()]),
    );
    expect(byCategory).toEqual({
      "Driver defect": ["assertion fails", "driver fails"],
      Infrastructure: ["infra fails"],
      "volcert bug": ["bug"],
    });
  }, 60_000);
});
