/**
 * The JSON Schema editors use to validate driver files (generated from the zod schema, with its
 * descriptions). It compiles under Ajv's strict mode: zod's own string formats ("starts_with",
 * "ends_with", "includes") are not JSON Schema formats, so they are dropped here; the `pattern`
 * zod emits next to each of them already carries the constraint.
 */
import { z } from "zod";
import { DriverFileSchema } from "./schema.ts";

export const SCHEMA_ID = "https://volcert.io/schemas/driver-v1alpha1.json";

/** Formats zod emits that are not JSON Schema formats (each comes with an equivalent `pattern`). */
const ZOD_ONLY_FORMATS = new Set(["starts_with", "ends_with", "includes"]);

/** A copy of a generated schema without the keywords a strict JSON Schema validator rejects. */
function strictClean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictClean);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "format" && typeof value === "string" && ZOD_ONLY_FORMATS.has(value)) continue;
    // Values of `default`, `const`, `enum` and `examples` are data, not schemas: copied as they are.
    out[key] = ["default", "const", "enum", "examples"].includes(key) ? value : strictClean(value);
  }
  return out;
}

export function driverJsonSchema(): Record<string, unknown> {
  const schema = strictClean(z.toJSONSchema(DriverFileSchema, { io: "input", unrepresentable: "any" })) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: SCHEMA_ID, title: "volcert driver definition (volcert.io/v1alpha1)" };
}

export function driverJsonSchemaText(): string {
  return `${JSON.stringify(driverJsonSchema(), null, 2)}\n`;
}
