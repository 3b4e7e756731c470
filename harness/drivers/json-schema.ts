/** The JSON Schema editors use to validate driver files (generated from the zod schema). */
import { z } from "zod";
import { DriverFileSchema } from "./schema.ts";

export const SCHEMA_ID = "https://volcert.io/schemas/driver-v1alpha1.json";

export function driverJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(DriverFileSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, $id: SCHEMA_ID, title: "volcert driver definition (volcert.io/v1alpha1)" };
}

export function driverJsonSchemaText(): string {
  return `${JSON.stringify(driverJsonSchema(), null, 2)}\n`;
}
