/**
 * Which drivers a run covers. Default: every reference driver in fixtures/drivers except the
 * deliberately broken fixtures. VOLCERT_DRIVERS (comma-separated names under fixtures/drivers, or
 * paths to driver files) overrides it; the CLI sets it to the drivers it installed. Loaded
 * synchronously at collection time, and validated strictly, before any cluster work.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DRIVERS_DIR, fixtureDriverFiles, isBrokenFixture } from "../drivers/fixtures.ts";
import { parseDriverText } from "../drivers/load.ts";
import type { DriverFile } from "../drivers/schema.ts";

export { fixtureDriverFiles, isBrokenFixture };

export function loadDriverAt(pathOrName: string): DriverFile {
  const file = existsSync(pathOrName) ? resolve(pathOrName) : join(DRIVERS_DIR, pathOrName, "driver.yaml");
  return parseDriverText(readFileSync(file, "utf8"), file).definition;
}

export function selectedDrivers(): DriverFile[] {
  const chosen = process.env["VOLCERT_DRIVERS"];
  if (chosen !== undefined)
    return chosen
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map(loadDriverAt);
  return fixtureDriverFiles()
    .map((f) => loadDriverAt(f.name))
    .filter((d) => !isBrokenFixture(d));
}
