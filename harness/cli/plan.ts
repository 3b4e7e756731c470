/**
 * Run planning, as a pure function of the command's options and the drivers on disk: which
 * drivers are certified, which broken fixtures are installed for self-tests, which run the chaos
 * suite, which Vitest projects and files run, which test names match, and the cluster's shape.
 * Every problem with the options is reported at once, before Docker or any cluster work.
 */
import { ConfigError } from "../core/errors.ts";
import { CHAOS_SELFTEST_FIXTURES } from "../drivers/fixtures.ts";
import { placeChaos, type ChaosProfile } from "./chaos-lanes.ts";

export interface RunOptions {
  mode: "run" | "test";
  keepCluster: boolean;
  workers: number;
  name?: string | undefined;
  unitOnly?: boolean;
  /** Use the existing cluster `name` (never created or deleted by this run). */
  reuse?: boolean;
  /** Restrict the run to these drivers (names under fixtures/drivers). */
  drivers?: string[];
  /** Restrict the run to these test IDs ("DP-02") or areas ("RP"). */
  cases?: string[];
  /** Run the disruptive NF cases (default true). */
  chaos?: boolean;
  /** Allow disruptive cases on a cluster volcert did not create. */
  allowDisruptive?: boolean;
  /** Repro mode: keep each case's namespace and volumes, print how to inspect them. */
  keepCase?: boolean;
  /** Run the NF suite only for these drivers (CI's time budget); the other suites still run for all. */
  chaosDrivers?: string[];
  /**
   * At most this many extra clusters for the chaos suite, which then runs next to the other
   * suites, one cluster per group of drivers (0: in the main cluster, after the other suites).
   */
  chaosClusters?: number;
  /** Where this run's results go (default reports/<run id>). */
  reportDir?: string;
  /** Test IDs or areas that must run and pass for a driver to be certified, whatever it declares. */
  require?: string[];
  /** A case of a driver's profile that is skipped fails the gate. */
  failOnSkip?: boolean;
  /** Image archives (`docker save` output) to load into the local engine before the image check. */
  imageArchives?: string[];
  /** An existing cluster: never created, deleted or reconfigured by volcert. */
  kubeconfig?: string;
  /** The kubeconfig context (default: its current context). */
  context?: string;
  /** Stop the whole run after this long (NaN: the option was not a duration). */
  deadlineMs?: number;
  /** The drivers are already installed in the cluster: test them as they are, never install or uninstall. */
  installed?: boolean;
  /**
   * What the NF suite runs for each driver, by name (harness/cli/chaos-lanes.ts): lanes are filled
   * longest first and balanced. Missing: every driver counts the same, and no case is dealt.
   */
  chaosProfiles?: Readonly<Record<string, ChaosProfile>>;
  /** Kind clusters created at a time on this machine (KindProvider: one per CPU core). */
  creationSlots?: number;
}

/** The case IDs and areas that exist (the catalog), to check --case and --require against. */
export interface KnownCases {
  ids: readonly string[];
  /** Areas of driver cases (what --require may name). */
  driverAreas: readonly string[];
  /** IDs of driver cases. */
  driverIds: readonly string[];
}

export interface PlannedDriver {
  name: string;
  file: string;
  /** A deliberately broken fixture (self-tests only). */
  broken: boolean;
  /** The file describes a driver already installed (upstream format, or no manifests). */
  preinstalled?: boolean;
  /** A reference variant only volcert's own tests certify by default (the Helm-installed csi-hostpath). */
  testOnly?: boolean;
}

/**
 * A cluster of its own where the chaos suite runs for a group of drivers, at the same time as the
 * other suites (main cluster) and the other groups: a fault in one cluster cannot reach another.
 */
export interface ChaosLane {
  cluster: string;
  /** Drivers installed there, whose NF cases run there. */
  drivers: PlannedDriver[];
  /** Broken fixtures installed there for the chaos self-tests (test mode, one lane). */
  brokenFixtures: PlannedDriver[];
  /** Files of the chaos project ([] = all, self-tests included). */
  files: string[];
  /**
   * For a driver whose NF cases are dealt to several lanes: the case IDs registered for it here
   * (absent: all of them).
   */
  caseSubsets: Record<string, string[]>;
}

/**
 * Default for --chaos-clusters: four lanes. Measured on this 2-core, 24 GB machine with the five
 * reference drivers (docs/benchmarks.md, 2026-12-03): four lanes PASSED in 24m51s (one lane
 * carries two drivers and is the critical path), five lanes (one per driver, main cluster created
 * first) in 27m08s the same day: a sixth cluster's control plane and image loads saturate the two
 * cores, and every case and creation slows down (e2e 11m06s → 16m44s, main install 2m08s → 6m57s).
 */
export const DEFAULT_CHAOS_CLUSTERS = 4;

export interface RunPlan {
  mode: RunOptions["mode"];
  /** Drivers whose cases run (certified), in name order. */
  drivers: PlannedDriver[];
  /** Broken fixtures installed for the self-tests (test mode). */
  brokenFixtures: PlannedDriver[];
  /** Drivers the NF suite runs for (empty when chaos is off). */
  chaosDrivers: PlannedDriver[];
  /** Vitest projects of the non-disruptive phase. */
  projects: string[];
  /** Files of the chaos phase ([] = every file of the chaos project, self-tests included). */
  chaosFiles: string[];
  /** Drivers whose NF cases run in the main cluster, after the other suites (with chaosFiles). */
  chaosInMain: PlannedDriver[];
  /** Clusters of their own for the other chaos drivers, running next to the main cluster. */
  chaosLanes: ChaosLane[];
  testNamePattern: string | undefined;
  cluster: {
    name: string;
    workers: number;
    reuse: boolean;
    keep: boolean;
    /** Created with FAST_NODE_MONITOR (clusters/kind/shape.ts), like the chaos clusters. */
    fastNodeMonitor: boolean;
    /** An existing cluster given by kubeconfig (never created or deleted). */
    kubeconfig?: { path: string; context: string | undefined };
  };
  /** Drivers to test as installed (never installed or uninstalled by volcert). */
  installedDrivers: string[];
  keepCase: boolean;
  allowDisruptive: boolean;
}

const ID = /^[A-Z]{2,6}(-\d{2})?$/;

/** Vitest name filter for --case: titles start with the test ID. */
export function caseFilter(ids: readonly string[]): string {
  const bad = ids.filter((i) => !ID.test(i));
  if (bad.length) {
    throw new ConfigError(
      "--case takes test IDs (DP-02) or areas (DP)",
      bad.map((b) => `${b}: not an ID or area`),
    );
  }
  // Full names start with the describe block ("DP dynamic provisioning DP-05 ..."), so no ^ anchor.
  return `(?:^|\\s)(?:${ids.join("|")})(?:-\\d{2})?\\s`;
}

/** Checks --case and --require against the catalog, and flags that contradict each other. */
function selectionProblems(opts: RunOptions, known: KnownCases): string[] {
  const problems: string[] = [];
  if (opts.deadlineMs !== undefined && !(opts.deadlineMs > 0))
    problems.push("--deadline: not a duration such as 45m, 1h30m or 90s");
  const areas = new Set(known.ids.map((i) => i.split("-")[0] as string));
  if (opts.mode === "test") areas.add("SELF");
  const exists = (sel: string) => (sel.includes("-") ? known.ids.includes(sel) : areas.has(sel));
  for (const id of opts.cases ?? []) {
    if (!ID.test(id)) problems.push(`--case ${id}: not a test ID (DP-02) or area (DP)`);
    else if (!exists(id))
      problems.push(
        `--case ${id}: no such ${id.includes("-") ? "test ID" : "area"} (areas: ${[...areas].sort().join(", ")}; volcert cases lists them)`,
      );
  }
  for (const id of opts.require ?? []) {
    const ok = id.includes("-") ? known.driverIds.includes(id) : known.driverAreas.includes(id);
    if (!ok) problems.push(`--require ${id}: not a driver test ID or area (areas: ${known.driverAreas.join(", ")})`);
  }
  const chaosOnly = (opts.cases ?? []).filter((c) => c === "NF" || c.startsWith("NF-"));
  if (opts.chaos === false && chaosOnly.length)
    problems.push(`--no-chaos contradicts --case ${chaosOnly.join(" ")} (NF cases are the chaos suite)`);
  if (opts.chaos === false && opts.chaosDrivers)
    problems.push("--no-chaos contradicts --chaos-driver (there is no chaos suite to restrict)");
  if (opts.require?.length && opts.cases?.length)
    problems.push("--require cannot be combined with --case (a filtered run cannot certify the required cases)");
  if (opts.unitOnly) {
    const extra = [
      opts.drivers && "--driver",
      opts.cases && "--case",
      opts.name && "--name",
      opts.reuse && "--reuse",
      opts.keepCluster && "--keep-cluster",
      opts.chaosDrivers && "--chaos-driver",
    ].filter(Boolean);
    if (extra.length) problems.push(`--unit-only runs no cluster, so ${extra.join(", ")} cannot apply`);
  }
  return problems;
}

export function planRun(
  opts: RunOptions,
  available: readonly PlannedDriver[],
  runId: string,
  catalog?: KnownCases,
): RunPlan {
  const problems: string[] = catalog ? selectionProblems(opts, catalog) : [];
  const unknownDrivers = (names: readonly string[], flag: string, pool: readonly PlannedDriver[]) => {
    for (const n of names.filter((n) => !pool.some((d) => d.name === n))) {
      problems.push(
        `${flag} ${n}: no such reference driver (reference drivers: ${pool.map((d) => d.name).join(", ")}; a driver of your own is given by its path, e.g. ./my-driver/driver.yaml)`,
      );
    }
  };
  // The main job certifies the reference drivers; volcert's own tests also install the broken fixtures.
  const pool = opts.mode === "test" ? available : available.filter((d) => !d.broken);
  // Test-only variants join the main job only when named.
  const byDefault = opts.mode === "test" ? pool : pool.filter((d) => !d.testOnly);
  if (opts.drivers) unknownDrivers(opts.drivers, "--driver", pool);
  const wanted = opts.drivers ? pool.filter((d) => opts.drivers?.includes(d.name)) : [...byDefault];
  const drivers = wanted.filter((d) => !d.broken);
  const chaos = opts.chaos !== false;
  if (opts.chaosDrivers) {
    for (const n of opts.chaosDrivers.filter((n) => !drivers.some((d) => d.name === n))) {
      problems.push(
        `--chaos-driver ${n}: not a driver this run certifies (this run: ${drivers.map((d) => d.name).join(", ") || "none"})`,
      );
    }
  }
  if (!catalog) {
    for (const id of (opts.cases ?? []).filter((i) => !ID.test(i))) {
      problems.push(`--case ${id}: not a test ID (DP-02) or area (DP)`);
    }
  }
  if (!Number.isInteger(opts.workers) || opts.workers < 0 || opts.workers > 3) {
    problems.push(`--workers ${String(opts.workers)}: must be a whole number from 0 to 3`);
  }
  if (opts.reuse && !opts.name) problems.push("--reuse needs --name (the cluster to reuse)");
  if (
    opts.chaosClusters !== undefined &&
    (!Number.isInteger(opts.chaosClusters) || opts.chaosClusters < 0 || opts.chaosClusters > 8)
  )
    problems.push(`--chaos-clusters ${String(opts.chaosClusters)}: must be a whole number from 0 to 8`);
  if (opts.name !== undefined && !/^volcert-[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(opts.name))
    problems.push(`--name ${opts.name}: a cluster name is volcert-<lowercase letters, digits, '-'>`);
  else if (opts.name !== undefined && opts.name.length > 40)
    problems.push(`--name ${opts.name}: at most 40 characters (node names append -control-plane / -workerN)`);
  if (opts.kubeconfig !== undefined) {
    const extra = [opts.name && "--name", opts.reuse && "--reuse", opts.keepCluster && "--keep-cluster"].filter(
      Boolean,
    );
    if (extra.length)
      problems.push(
        `--kubeconfig names an existing cluster volcert never creates or deletes, so ${extra.join(", ")} cannot apply`,
      );
  } else if (opts.context !== undefined) problems.push("--context needs --kubeconfig");
  const existing = opts.kubeconfig !== undefined || !!opts.reuse;
  if (opts.installed && !existing)
    problems.push(
      "--installed needs an existing cluster (--kubeconfig, or --reuse): a fresh cluster has no driver installed",
    );
  for (const d of drivers.filter((d) => d.preinstalled && !existing)) {
    problems.push(
      `driver ${d.name} describes a driver already installed (an upstream storage.testdriver file, or no manifests): test it on the cluster where it is installed with --kubeconfig`,
    );
  }
  if (problems.length) throw new ConfigError("the options cannot make a run", problems);
  const chaosDrivers = chaos
    ? opts.chaosDrivers
      ? drivers.filter((d) => opts.chaosDrivers?.includes(d.name))
      : drivers
    : [];
  const clusterName = opts.name ?? `volcert-${opts.mode}-${runId.slice(-4)}`;
  const chaosFiles = opts.mode === "test" ? [] : ["suites/chaos/"];
  // Only NF cases selected: the main cluster has nothing else to run, so it takes a group itself.
  const isChaos = (c: string) => c === "NF" || c.startsWith("NF-");
  const onlyChaos = !!opts.cases?.length && opts.cases.every(isChaos);
  // Test mode's chaos self-tests are selected by SELF too ("SELF NF-02 ...").
  const selectsChaos = !opts.cases || opts.cases.some((c) => isChaos(c) || (opts.mode === "test" && c === "SELF"));
  // Clusters of their own only next to a cluster volcert creates for this run (a reused or
  // existing cluster is the only one), not in repro mode or with --keep-cluster (one cluster to
  // inspect, the one the instructions name), and only when some NF case is selected.
  const laneable = !existing && !opts.keepCase && !opts.keepCluster && selectsChaos;
  const placement = placeChaos(
    chaosDrivers,
    wanted.filter((d) => d.broken && CHAOS_SELFTEST_FIXTURES.includes(d.name)),
    laneable ? Math.min(opts.chaosClusters ?? DEFAULT_CHAOS_CLUSTERS, chaosDrivers.length) : 0,
    onlyChaos,
    clusterName,
    chaosFiles,
    opts.chaosProfiles ?? {},
    opts.creationSlots ?? 1,
  );
  return {
    mode: opts.mode,
    drivers,
    brokenFixtures: wanted.filter((d) => d.broken),
    chaosDrivers,
    projects: opts.mode === "test" ? ["e2e", "selftest"] : ["e2e"],
    // The main job runs only the NF suite in its chaos phase; test mode adds the chaos self-tests.
    chaosFiles,
    chaosInMain: placement.inMain,
    chaosLanes: placement.lanes,
    testNamePattern: opts.cases ? caseFilter(opts.cases) : undefined,
    cluster: {
      name: clusterName,
      workers: opts.workers,
      reuse: !!opts.reuse,
      keep: opts.keepCluster || !!opts.reuse || opts.kubeconfig !== undefined,
      // A fresh cluster that runs only chaos gets the chaos clusters' node-failure detection.
      fastNodeMonitor: onlyChaos && !existing,
      ...(opts.kubeconfig !== undefined ? { kubeconfig: { path: opts.kubeconfig, context: opts.context } } : {}),
    },
    installedDrivers: [...drivers, ...wanted.filter((d) => d.broken)]
      .filter((d) => opts.installed || d.preinstalled)
      .map((d) => d.name),
    keepCase: !!opts.keepCase,
    allowDisruptive: !!opts.allowDisruptive,
  };
}
