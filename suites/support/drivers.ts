/**
 * Which drivers a run covers. Default: every reference driver in fixtures/drivers except the
 * deliberately broken fixtures. VOLCERT_DRIVERS (comma-separated names under fixtures/drivers, or
 * paths to driver files) overrides it. Loaded synchronously at collection time, and validated
 * strictly, before any cluster work.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDriverText } from "../../harness/drivers/load.ts";
import type { DriverFile } from "../../harness/drivers/schema.ts";

export const DRIVERS_DIR = fileURLToPath(new URL("../../fixtures/drivers/", import.meta.url));

export function loadDriverAt(pathOrName: string): DriverFile {
  const file = existsSync(pathOrName) ? resolve(pathOrName) : join(DRIVERS_DIR, pathOrName, "driver.yaml");
  return parseDriverText(readFileSync(file, "utf8"), file).definition;
}

export function isBrokenFixture(d: DriverFile): boolean {
  return (d.metadata.description ?? "").startsWith("BROKEN");
}

/** Reference driver directories (name → driver file), broken fixtures included. */
export function fixtureDriverFiles(): { name: string; file: string }[] {
  return readdirSync(DRIVERS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(DRIVERS_DIR, e.name, "driver.yaml")))
    .map((e) => ({ name: e.name, file: join(DRIVERS_DIR, e.name, "driver.yaml") }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function selectedDrivers(): DriverFile[] {
  const chosen = process.env["VOLCERT_DRIVERS"];
  if (chosen) return chosen.split(",").map((s) => s.trim()).filter(Boolean).map(loadDriverAt);
  return fixtureDriverFiles()
    .map((f) => loadDriverAt(f.name))
    .filter((d) => !isBrokenFixture(d));
}
