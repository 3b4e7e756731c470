/** `volcert drivers validate|schema|reference`: driver files checked deeply, with no Docker or cluster. */
import { relative } from "node:path";
import { ConfigError, describeError } from "../core/errors.ts";
import { DRIVERS_DIR, loadFixture } from "../drivers/fixtures.ts";
import { driverJsonSchemaText } from "../drivers/json-schema.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { callerPath } from "./caller-path.ts";

export async function driversValidate(files: string[]): Promise<void> {
  let bad = 0;
  for (const f of files) {
    const path = callerPath(f);
    try {
      // Fixtures share files across their directories; their tree is fixtures/drivers.
      const inFixtures = !relative(DRIVERS_DIR, path).startsWith("..");
      const d = await (inFixtures ? loadFixture(path) : loadDriverFile(path));
      const spec = d.definition.spec;
      console.log(`ok   ${f} (${d.format} format, ${spec.type} driver ${d.definition.metadata.name})`);
      if (d.images.length) console.log(`     images it needs (from the local Docker engine): ${d.images.join(", ")}`);
      if (spec.type === "csi" && !spec.csi?.manifests.length)
        console.log("     note: no manifests: it describes a driver already installed in a cluster");
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

export async function driversReference(): Promise<void> {
  const { driverReferenceMarkdown } = await import("../drivers/reference.ts");
  process.stdout.write(driverReferenceMarkdown());
}
