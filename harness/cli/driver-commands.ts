/** `volcert drivers validate|schema|reference`: driver files checked deeply, with no Docker or cluster. */
import { writeFile } from "node:fs/promises";
import { relative } from "node:path";
import { ConfigError, describeError } from "../core/errors.ts";
import { DRIVERS_DIR, loadFixture } from "../drivers/fixtures.ts";
import { driverJsonSchemaText } from "../drivers/json-schema.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { loadManifest } from "../../clusters/images/manifest.ts";
import { builtinImageRewrites } from "../../clusters/images/sidecars.ts";
import { callerPath } from "./caller-path.ts";

export async function driversValidate(files: string[]): Promise<void> {
  // The sidecars volcert builds are offered under their upstream names (no Docker needed to know them).
  const opts = { builtinRewrites: builtinImageRewrites(loadManifest()) };
  let bad = 0;
  for (const f of files) {
    const path = callerPath(f);
    try {
      // Fixtures share files across their directories; their tree is fixtures/drivers.
      const inFixtures = !relative(DRIVERS_DIR, path).startsWith("..");
      const d = await (inFixtures ? loadFixture(path, opts) : loadDriverFile(path, opts));
      const spec = d.definition.spec;
      console.log(`ok   ${f} (${d.format} format, ${spec.type} driver ${d.definition.metadata.name})`);
      if (d.images.length) console.log(`     images it needs (from the local Docker engine): ${d.images.join(", ")}`);
      if (spec.type === "csi" && !spec.csi?.manifests.length && !spec.helm)
        console.log("     note: no manifests: it describes a driver already installed in a cluster");
      for (const n of d.notes) console.log(`     note: ${n}`);
    } catch (err) {
      bad++;
      console.log(`FAIL ${describeError(err)}`);
    }
  }
  if (bad) throw new ConfigError(`${bad} of ${files.length} driver files are invalid`);
}

/** Writes the volcert equivalent of an upstream storage.testdriver file (stdout, or a new file). */
export async function driversImport(file: string, output: string | undefined): Promise<void> {
  const d = await loadDriverFile(callerPath(file));
  if (d.format !== "upstream")
    throw new ConfigError(`${d.file} is already a volcert driver file`, [], {
      fix: "drivers import reads upstream storage.testdriver files (DriverInfo, StorageClass, ...)",
    });
  const { importedDriverText } = await import("../drivers/import.ts");
  const text = importedDriverText(d);
  if (!output) {
    process.stdout.write(text);
    return;
  }
  const out = callerPath(output);
  // "wx": never overwrite a file the vendor may have completed already.
  await writeFile(out, text, { flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(
      `cannot write ${out}: ${err.code === "EEXIST" ? "it exists (volcert never overwrites it)" : err.message}`,
    );
  });
  console.log(`wrote ${out}; complete spec.csi (see the comments in it), then: volcert drivers validate ${output}`);
}

export async function driversSchema(): Promise<void> {
  process.stdout.write(driverJsonSchemaText());
}

export async function driversReference(): Promise<void> {
  const { driverReferenceMarkdown } = await import("../drivers/reference.ts");
  process.stdout.write(driverReferenceMarkdown());
}
