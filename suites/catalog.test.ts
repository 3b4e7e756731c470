import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AREAS, CATALOG } from "./catalog.ts";

const SUITES = new URL(".", import.meta.url).pathname;

/** Every test ID a suite file names, by reading the files (what Vitest would register). */
function idsInSuiteFiles(): Set<string> {
  const ids = new Set<string>();
  for (const dir of readdirSync(SUITES, { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name === "selftest") continue;
    for (const f of readdirSync(join(SUITES, dir.name))) {
      const text = readFileSync(join(SUITES, dir.name, f), "utf8");
      for (const m of text.matchAll(/"([A-Z]+-\d{2})\b/g)) ids.add(m[1] as string);
    }
  }
  return ids;
}

describe("case catalog", () => {
  test("lists exactly the IDs the suite files define, each once, in a known area", () => {
    const ids = CATALOG.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(idsInSuiteFiles());
    for (const c of CATALOG) expect(Object.keys(AREAS), c.id).toContain(c.area);
  });
});
