/**
 * The driver definitions shipped in fixtures/drivers: the reference drivers a main run certifies,
 * and the deliberately broken fixtures (description starting with "BROKEN") that only volcert's
 * self-tests use.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckOptions } from "./consistency.ts";
import { loadDriverFile, type LoadedDriver } from "./load.ts";
import type { DriverFile } from "./schema.ts";

export const DRIVERS_DIR = fileURLToPath(new URL("../../fixtures/drivers/", import.meta.url));

/**
 * Reference fixtures a main run certifies only when --driver names them; volcert's own tests
 * (test mode) install them by default. csi-hostpath-helm is the reference CSI driver again,
 * installed from its chart: it exercises the Helm installer but certifies nothing csi-hostpath
 * does not, at the cost of a second full CSI run.
 */
export const TEST_MODE_FIXTURES: ReadonlySet<string> = new Set(["csi-hostpath-helm"]);

/**
 * The broken fixtures the chaos self-tests (suites/selftest/*.chaos.test.ts) run against: installed
 * in the cluster where those self-tests run (fixtures.test.ts checks the list against the files).
 */
export const CHAOS_SELFTEST_FIXTURES: readonly string[] = ["flex-loop-leaky-unmount"];

export function isBrokenFixture(d: DriverFile): boolean {
  return (d.metadata.description ?? "").startsWith("BROKEN");
}

/**
 * Loads a fixture. Fixtures share files across their directories (a broken fixture reuses the
 * reference driver's RBAC), so their tree is all of fixtures/drivers.
 */
export function loadFixture(file: string, opts: CheckOptions = {}): Promise<LoadedDriver> {
  return loadDriverFile(file, { ...opts, root: DRIVERS_DIR });
}

/** Driver directories under fixtures/drivers (name → driver file), broken fixtures included. */
export function fixtureDriverFiles(): { name: string; file: string }[] {
  return readdirSync(DRIVERS_DIR, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && existsSync(join(DRIVERS_DIR, e.name, "driver.yaml")))
    .map((e) => ({ name: e.name, file: join(DRIVERS_DIR, e.name, "driver.yaml") }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
