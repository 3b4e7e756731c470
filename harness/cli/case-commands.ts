/** `volcert cases`: the catalog, and for a driver which cases its declared capabilities put in its profile. */
import { ConfigError } from "../core/errors.ts";
import { profileFor } from "../report/verdict.ts";
import { resolveDriverArgs } from "./driver-args.ts";

export async function listCases(driverArg: string | undefined): Promise<void> {
  const { AREAS, CATALOG } = await import("../../suites/catalog.ts");
  let profile: ReturnType<typeof profileFor> | undefined;
  if (driverArg) {
    const sel = await resolveDriverArgs([driverArg]);
    const d = sel.available.find((a) => a.name === sel.names?.[0] && !a.broken);
    if (!d) throw new ConfigError(`--driver ${driverArg}: no such reference driver or driver file`);
    profile = profileFor(
      d.loaded.definition,
      CATALOG.map((c) => ({ id: c.id, area: c.area, perDriver: c.perDriver, requires: c.meta?.requires })),
    );
  }
  for (const [area, what] of Object.entries(AREAS)) {
    console.log(`\n${area}  ${what}`);
    for (const c of CATALOG.filter((x) => x.area === area)) {
      const outside = profile?.outside.find((o) => o.id === c.id);
      const mark = !profile ? "" : !c.perDriver ? "  cluster " : outside ? "  –       " : "  profile ";
      const flags = [c.perDriver ? "per driver" : "per cluster", c.meta?.disruptive ? "disruptive" : ""].filter(
        Boolean,
      );
      console.log(
        `${mark}  ${c.id.padEnd(9)} ${c.title}  (${flags.join(", ")})${outside ? `\n              ${outside.reason}` : ""}`,
      );
    }
  }
  if (profile) {
    console.log(
      `\n${profile.driver}: ${profile.applicable.length} cases in its certification profile, ${profile.outside.length} outside it`,
    );
  }
}
