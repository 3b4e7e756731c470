/**
 * Where the NF suite runs: the chaos drivers placed on clusters of their own ("lanes") next to the
 * main cluster, and, where a lane would end long after the others, some NF cases of a driver that
 * installs in seconds dealt to a lane that ends sooner. A pure function of the drivers, their NF
 * profiles and the machine's creation slots; estimates in seconds (below) only order and balance.
 */
import type { ChaosLane, PlannedDriver } from "./plan.ts";

/** What the NF suite runs for one driver (run.ts reads it from the catalog and the driver's profile). */
export interface ChaosProfile {
  /** NF cases its profile runs, in catalog order. */
  runs: readonly string[];
  /** NF cases outside its profile: registered in one lane only, skipped there with the reason. */
  outside: readonly string[];
  /** Installs in seconds (nothing to load into the nodes): its cases may run in several lanes. */
  quickInstall: boolean;
}

/**
 * Estimates for balancing, measured in the main jobs of 2026-12-03 on the 2-core, 24 GB machine
 * (docs/benchmarks.md, "Five consecutive main jobs"): an NF case takes 55 s on average (2400-2600
 * case-seconds for 46 cases); a CSI driver's install in a fresh lane 55-90 s (images loaded into
 * its nodes), an in-tree or FlexVolume one a few seconds; a cluster that waits for a creation slot
 * is ready about 90 s later per round (nf1 at 0.7 min, nf4, the third round, at 3.5-4 min).
 */
export const LANE_ESTIMATES = { caseS: 55, slowInstallS: 90, quickInstallS: 5, creationRoundS: 90 } as const;

export interface ChaosPlacement {
  inMain: PlannedDriver[];
  lanes: ChaosLane[];
}

/**
 * Chaos drivers dealt to `count` groups, the longest first (estimated install plus NF cases), each
 * to the group with the least so far (the first of equals), so the drivers that must share a
 * cluster are the shortest ones: with the five reference drivers and four lanes, two with 8 NF
 * cases each (16) rather than one with 11 and one with 8 (round-robin by name did that until
 * 2026-12-03, and that lane was the main job's critical path). Lanes are numbered longest first,
 * the order their clusters are created in (run.ts: the first lane, the main cluster, the others).
 * With `inMainToo` the main cluster takes the first group (it has nothing else to run); every other
 * group gets a cluster of its own, named after the main one. The chaos self-tests (test mode:
 * `files` is every chaos file) and the broken fixtures they need go with the main cluster's group
 * if it has one, else to the lane with the fewest drivers (the last of equals). Then, with
 * profiles, cases are dealt across lanes (`dealCases`).
 */
export function placeChaos(
  drivers: readonly PlannedDriver[],
  fixtures: readonly PlannedDriver[],
  count: number,
  inMainToo: boolean,
  mainCluster: string,
  files: string[],
  profiles: Readonly<Record<string, ChaosProfile>>,
  creationSlots: number,
): ChaosPlacement {
  if (count <= 1 && (count === 0 || inMainToo)) return { inMain: [...drivers], lanes: [] };
  const cost = (d: PlannedDriver) => {
    const p = profiles[d.name];
    return p ? driverSeconds(p, p.runs.length) : 1;
  };
  const groups: PlannedDriver[][] = Array.from({ length: count }, () => []);
  const load = groups.map(() => 0);
  // Stable sort: equal costs keep name order.
  for (const d of [...drivers].sort((a, b) => cost(b) - cost(a))) {
    const i = load.indexOf(Math.min(...load));
    groups[i]?.push(d);
    load[i] = (load[i] ?? 0) + cost(d);
  }
  for (const g of groups) g.sort((a, b) => a.name.localeCompare(b.name));
  const total = (g: PlannedDriver[]) => g.reduce((sum, d) => sum + cost(d), 0);
  groups.sort((a, b) => total(b) - total(a));
  const inMain = inMainToo ? (groups.shift() ?? []) : [];
  const lanes: ChaosLane[] = groups.map((g, i) => ({
    cluster: `${mainCluster}-nf${i + 1}`,
    drivers: g,
    brokenFixtures: [],
    files: ["suites/chaos/"],
    caseSubsets: {},
  }));
  if (!inMain.length) {
    const selftests = lanes.reduce((min, l) => (l.drivers.length <= min.drivers.length ? l : min));
    selftests.files = files;
    selftests.brokenFixtures = files.length ? [] : [...fixtures];
    // Balancing needs every lane's length: not with the self-tests (of unknown length) in one.
    if (files.length && Object.keys(profiles).length) dealCases(lanes, profiles, creationSlots);
  }
  return { inMain, lanes };
}

function driverSeconds(p: ChaosProfile, cases: number): number {
  const e = LANE_ESTIMATES;
  return (p.quickInstall ? e.quickInstallS : e.slowInstallS) + cases * e.caseS;
}

/**
 * Moves NF cases, one at a time, from the lane estimated to end last to the one estimated to end
 * first, while that brings the last end forward: only cases of a driver that installs in seconds
 * (a second install costs nothing; a CSI driver's would cost a minute or more), the donor being
 * the lane's quick driver with the fewest cases there. A lane's estimated end counts the creation
 * round it waits for (`creationSlots` clusters are created at a time, in lane order with the main
 * cluster second). A driver dealt to several lanes gets `caseSubsets` in each: the cases it runs
 * there, its home lane (where it was placed) also registering the cases outside its profile.
 */
export function dealCases(
  lanes: ChaosLane[],
  profiles: Readonly<Record<string, ChaosProfile>>,
  creationSlots: number,
): void {
  const e = LANE_ESTIMATES;
  const slots = Math.max(1, Math.floor(creationSlots));
  // Creation order: lane 0, the main cluster, lanes 1...
  const ready = lanes.map((_, i) => Math.floor((i === 0 ? 0 : i + 1) / slots) * e.creationRoundS);
  const cases = lanes.map((l) => new Map(l.drivers.map((d) => [d.name, [...(profiles[d.name]?.runs ?? [])]])));
  const home = new Map(lanes.flatMap((l) => l.drivers.map((d) => [d.name, l] as const)));
  const end = (i: number) =>
    (ready[i] ?? 0) +
    [...(cases[i] ?? new Map<string, string[]>())].reduce((sum, [name, ids]) => {
      const p = profiles[name];
      return sum + (p ? driverSeconds(p, ids.length) : 0);
    }, 0);
  for (;;) {
    const ends = lanes.map((_, i) => end(i));
    const src = ends.indexOf(Math.max(...ends));
    const donor = [...(cases[src] ?? [])]
      .filter(([name, ids]) => profiles[name]?.quickInstall && ids.length > 0)
      .sort(([a, x], [b, y]) => x.length - y.length || b.localeCompare(a))[0];
    if (!donor) break;
    const [name, ids] = donor;
    const after = (j: number) => (ends[j] ?? 0) + e.caseS + (cases[j]?.has(name) ? 0 : e.quickInstallS);
    const others = lanes.map((_, j) => j).filter((j) => j !== src);
    const dst = others.reduce((best, j) => (after(j) < after(best) ? j : best), others[0] ?? src);
    if (dst === src || !(after(dst) < (ends[src] ?? 0))) break;
    const moved = ids.pop() as string;
    const there = cases[dst]?.get(name);
    if (there) there.unshift(moved);
    else cases[dst]?.set(name, [moved]);
  }
  lanes.forEach((lane, i) => {
    for (const [name, ids] of cases[i] ?? []) {
      const driverHome = home.get(name);
      const dealt = lanes.filter((l, j) => cases[j]?.has(name)).length > 1;
      if (!dealt) continue;
      if (driverHome !== lane) {
        const d = driverHome?.drivers.find((x) => x.name === name);
        if (d) lane.drivers = [...lane.drivers, d].sort((a, b) => a.name.localeCompare(b.name));
      }
      lane.caseSubsets[name] = [...ids, ...(driverHome === lane ? (profiles[name]?.outside ?? []) : [])].sort();
    }
  });
}
