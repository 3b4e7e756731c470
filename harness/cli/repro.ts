/** Repro mode's last words: for every case kept, the exact commands to inspect it. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DriverFile } from "../drivers/schema.ts";
import { reproCommands, type ReproAccess } from "../repro/commands.ts";
import type { ReproRecord } from "../repro/record.ts";

export function printRepro(runDir: string, access: ReproAccess, drivers: readonly DriverFile[]): void {
  const files = readdirSync(runDir).filter((f) => f.startsWith("repro-") && f.endsWith(".json"));
  if (!files.length) {
    console.log("\nrepro: no case was kept (it was skipped or filtered out; see the summary above)");
    return;
  }
  for (const f of files) {
    const r = JSON.parse(readFileSync(join(runDir, f), "utf8")) as ReproRecord;
    console.log(`\nrepro: case kept in namespace ${r.namespace} (record ${join(runDir, f)})`);
    for (const l of reproCommands(
      r,
      access,
      drivers.find((d) => d.metadata.name === r.driver),
    ))
      console.log(`  ${l}`);
  }
}
