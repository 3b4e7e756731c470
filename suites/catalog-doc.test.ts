import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CATALOG } from "./catalog.ts";
import { CATALOG_DOC_COMMAND, catalogMarkdown, describeRequirement } from "./catalog-doc.ts";

describe("the catalog document", () => {
  test(`docs/catalog.md is up to date (regenerate: ${CATALOG_DOC_COMMAND})`, () => {
    const published = readFileSync(new URL("../docs/catalog.md", import.meta.url), "utf8");
    expect(published, `docs/catalog.md is stale: run ${CATALOG_DOC_COMMAND}`).toBe(catalogMarkdown());
  });

  test("every test ID has its row", () => {
    const doc = catalogMarkdown();
    for (const c of CATALOG) expect(doc).toContain(`| ${c.id} |`);
  });

  test("requirements read as a line", () => {
    expect(describeRequirement({ dynamic: true, capabilities: ["persistence", "topology"] })).toBe(
      "a StorageClass (dynamic provisioning); `persistence`, `topology`",
    );
    expect(describeRequirement(undefined)).toBe("");
  });
});
