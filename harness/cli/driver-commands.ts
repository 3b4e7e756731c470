import { loadDriverFile } from "../drivers/load.ts";
import { driverJsonSchemaText } from "../drivers/json-schema.ts";
import { ConfigError, describeError } from "../core/errors.ts";

export async function driversValidate(files: string[]): Promise<void> {
  let bad = 0;
  for (const f of files) {
    try {
      const d = await loadDriverFile(f);
      console.log(`ok   ${f} (${d.format} format, ${d.definition.spec.type} driver ${d.definition.metadata.name})`);
      for (const n of d.notes) console.log(`     note: ${n}`);
    } catch (err) {
      bad++;
      console.log(`FAIL ${describeError(err)}`);
    }
  }
  if (bad) throw new ConfigError(`${bad} of ${files.length} driver files are invalid`);
}

export async function driversSchema(): Promise<void> {
  process.stdout.write(driverJsonSchemaText());
}
