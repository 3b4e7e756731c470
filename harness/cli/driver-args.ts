/**
 * `--driver` arguments: a reference driver by name (a directory under fixtures/drivers), or a
 * driver file or directory anywhere, by path (relative to where the user typed it). Every file is
 * loaded and deep-validated here, before any Docker or cluster work; the problems of every driver
 * are listed together.
 */
import { ConfigError } from "../core/errors.ts";
import { fixtureDriverFiles, isBrokenFixture, loadFixture, TEST_MODE_FIXTURES } from "../drivers/fixtures.ts";
import type { CheckOptions } from "../drivers/consistency.ts";
import { loadDriverFile, type LoadedDriver } from "../drivers/load.ts";
import { callerPath, looksLikePath } from "./caller-path.ts";
import type { PlannedDriver } from "./plan.ts";

export type AvailableDriver = PlannedDriver & { loaded: LoadedDriver; external: boolean };

export interface DriverSelection {
  /** Reference drivers, broken fixtures and the drivers given by path. */
  available: AvailableDriver[];
  /** The --driver arguments as driver names (undefined: no --driver). */
  names: string[] | undefined;
}

export async function resolveDriverArgs(
  args: readonly string[] | undefined,
  opts: CheckOptions = {},
): Promise<DriverSelection> {
  const fixtures: AvailableDriver[] = await Promise.all(
    fixtureDriverFiles().map(async (f) => {
      const loaded = await loadFixture(f.file, opts);
      return {
        name: f.name,
        file: loaded.file,
        broken: isBrokenFixture(loaded.definition),
        testOnly: TEST_MODE_FIXTURES.has(f.name),
        loaded,
        external: false,
      };
    }),
  );
  const problems: string[] = [];
  const external: AvailableDriver[] = [];
  const names: string[] = [];
  for (const arg of args ?? []) {
    if (!looksLikePath(arg)) {
      names.push(arg);
      continue;
    }
    const path = callerPath(arg);
    let loaded: LoadedDriver;
    try {
      loaded = await loadDriverFile(path, opts);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.problems.length ? `${err.message.split("\n")[0]}:` : err.message);
      problems.push(...err.problems.map((p) => `    ${p}`));
      continue;
    }
    const name = loaded.definition.metadata.name;
    if ([...fixtures, ...external].some((d) => d.name === name)) {
      problems.push(
        `${loaded.file}: its metadata.name "${name}" is already the name of ${fixtures.some((d) => d.name === name) ? "a reference driver" : "another --driver"}; give it a name of its own`,
      );
    } else {
      // An upstream file, or a CSI file without manifests, describes a driver already installed.
      const preinstalled =
        loaded.format === "upstream" ||
        (loaded.definition.spec.type === "csi" &&
          !loaded.definition.spec.csi?.manifests.length &&
          loaded.definition.spec.helm === undefined);
      external.push({ name, file: loaded.file, broken: false, loaded, external: true, preinstalled });
      names.push(name);
    }
  }
  if (problems.length) throw new ConfigError("the drivers given cannot be run", problems);
  return { available: [...fixtures, ...external], names: args ? names : undefined };
}
