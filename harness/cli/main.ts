/**
 * volcert command table. Each command body lives in its own module and is loaded lazily, so
 * `volcert --help` is instant and a command only pays for what it uses.
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { describeError, exitCodeFor, exitCodes } from "../core/errors.ts";
import { versionLine } from "../core/version.ts";
import { DEFAULT_CHAOS_CLUSTERS } from "./plan.ts";

// `volcert cases | head` closes the pipe early: that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const EXIT_CODES = `
Exit codes:
  0    passed: every case ran passed, each driver certified for its profile (or nothing to certify)
  1    the driver under test failed (a case it should pass, or a --require'd case it cannot run)
  2    bad input: options, driver files, missing images, a filter matching nothing, a required case the run could not run
  3    infrastructure only (Docker, image build, cluster, API server): not a verdict on the driver
  4    a volcert bug (no driver failure)
  124  stopped by --deadline (cases in progress healed, what the run created removed, report of what ran written)
  130  interrupted by Ctrl-C (SIGINT), same cleanup; a second Ctrl-C stops at once and lists what is left
  143  stopped by SIGTERM, same cleanup
`;

const program = new Command()
  .name("volcert")
  .description("Conformance and chaos harness for Kubernetes storage drivers, on hermetic kind clusters")
  .version(versionLine(), "--version", "print volcert's version and commit")
  .addHelpText("after", EXIT_CODES)
  .showHelpAfterError()
  .option("--yes", "let volcert restart Docker even while containers it did not create are running (they stop with it)")
  .configureHelp({ showGlobalOptions: true })
  // Usage errors exit 2 (bad input), never 1 (which means "the driver failed").
  .exitOverride()
  // Before any command: a private cache root, kubectl's cache inside it, the --yes decision.
  .hook("preAction", async () => {
    const { prepareHost } = await import("./host.ts");
    prepareHost({ yes: !!program.opts().yes });
  });

/** "1h30m", "45m", "90s" in ms, or NaN (reported by run planning with the other problems). */
const duration = (v: string) =>
  /^(\d+(h|m|s))+$/.test(v.trim())
    ? [...v.matchAll(/(\d+)(h|m|s)/g)].reduce(
        (ms, [, n, u]) => ms + Number(n) * { h: 3_600_000, m: 60_000, s: 1000 }[u as "h" | "m" | "s"],
        0,
      )
    : Number.NaN;
const deadlineOption = () =>
  new Option(
    "--deadline <duration>",
    "stop the whole run after this long (e.g. 45m, 1h30m): cases in progress heal, what the run created is removed, exit 124",
  ).argParser(duration);
/** A whole number, or NaN (reported by run planning with the other problems). */
const wholeNumber = (v: string) => (/^\d+$/.test(v.trim()) ? Number(v) : Number.NaN);
const workersOption = () => new Option("--workers <n>", "worker nodes (0-3)").default(2).argParser(wholeNumber);
const chaosClustersOption = () =>
  new Option(
    "--chaos-clusters <n>",
    "at most this many extra clusters where the NF suite runs, per group of drivers, next to the other suites (0: in the main cluster afterwards)",
  )
    .default(DEFAULT_CHAOS_CLUSTERS)
    .argParser(wholeNumber);
const driverHelp =
  "drivers to certify: reference driver names (directories under fixtures/drivers) or paths to driver files or directories";

program
  .command("run")
  .description("main job: build what is missing, create a fresh cluster, run the suites, write the report")
  .option("--keep-cluster", "keep the cluster afterwards (prints how to reach it)")
  .option("--name <name>", "cluster name (default: volcert-run-<id>)")
  .option("--reuse", "run on the existing volcert cluster --name instead of creating one (it is kept afterwards)")
  .option("--driver <names-or-paths...>", driverHelp)
  .option("--case <ids...>", "only these test IDs or areas, e.g. --case DP-02 RP")
  .option("--no-chaos", "skip the disruptive NF suite")
  .option("--allow-disruptive", "allow NF cases on a cluster volcert did not create (--reuse of a foreign cluster)")
  .option("--chaos-driver <names...>", "run the NF suite only for these drivers")
  .option("--report-dir <dir>", "where this run's results go (summary.json, JUnit, report); new or empty")
  .option("--require <ids...>", "test IDs or areas that must run and pass, whatever the driver declares")
  .option("--fail-on-skip", "a case of a driver's profile that is skipped fails the gate (exit 2)")
  .option("--image-archive <files...>", "image archives (docker save) with the drivers' images, loaded first")
  .option(
    "--kubeconfig <path>",
    "test on this existing cluster (never created, deleted or reconfigured; disruptive cases need --allow-disruptive)",
  )
  .option("--context <name>", "the kubeconfig context (default: its current context)")
  .option("--installed", "the drivers are installed in the cluster already: test them as they are, never (un)install")
  .addOption(workersOption())
  .addOption(chaosClustersOption())
  .addOption(deadlineOption())
  .action(async (opts) => {
    const { runMain } = await import("./run.ts");
    process.exitCode = await runMain({
      mode: "run",
      chaosClusters: opts.chaosClusters,
      ...(opts.deadline !== undefined ? { deadlineMs: opts.deadline } : {}),
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { context: opts.context } : {}),
      installed: !!opts.installed,
      ...(opts.imageArchive ? { imageArchives: opts.imageArchive } : {}),
      ...(opts.reportDir ? { reportDir: opts.reportDir } : {}),
      ...(opts.require ? { require: opts.require } : {}),
      failOnSkip: !!opts.failOnSkip,
      chaos: opts.chaos,
      ...(opts.chaosDriver ? { chaosDrivers: opts.chaosDriver } : {}),
      allowDisruptive: !!opts.allowDisruptive,
      keepCluster: !!opts.keepCluster || !!opts.reuse,
      name: opts.name,
      workers: opts.workers,
      reuse: !!opts.reuse,
      ...(opts.driver ? { drivers: opts.driver } : {}),
      ...(opts.case ? { cases: opts.case } : {}),
    });
  });

program
  .command("repro")
  .description(
    "engineers: run one test ID (against one driver), keep the cluster and the case's namespace and volumes, print the commands to inspect them",
  )
  .argument("<id>", "test ID, e.g. NF-02")
  .option("--driver <name-or-path>", "the driver (reference driver name or path); omit for driver-independent cases")
  .option("--name <name>", "cluster name", "volcert-repro")
  .option("--reuse", "run on the existing volcert cluster --name instead of creating one")
  .option("--allow-disruptive", "allow an NF case on a cluster volcert did not create")
  .addOption(workersOption())
  .action(async (id, opts) => {
    const { runMain } = await import("./run.ts");
    const { ConfigError } = await import("../core/errors.ts");
    if (!/^[A-Z]{2,6}-\d{2}$/.test(id)) throw new ConfigError(`repro takes one test ID such as NF-02, not "${id}"`);
    process.exitCode = await runMain({
      mode: "run",
      keepCluster: true,
      keepCase: true,
      allowDisruptive: !!opts.allowDisruptive,
      name: opts.name,
      workers: opts.workers,
      reuse: !!opts.reuse,
      cases: [id],
      ...(opts.driver ? { drivers: [opts.driver] } : {}),
    });
  });

program
  .command("test")
  .description("volcert's own tests: unit tests, then the e2e suites on a fresh real cluster")
  .option("--unit-only", "run only the unit tests (no Docker, no cluster)")
  .option("--keep-cluster", "keep the e2e cluster afterwards")
  .option("--name <name>", "cluster name (default: volcert-test-<id>)")
  .option("--reuse", "run on the existing volcert cluster --name instead of creating one (it is kept afterwards)")
  .option("--driver <names-or-paths...>", `${driverHelp}; broken fixtures included`)
  .option("--case <ids...>", "only these test IDs or areas, e.g. --case DP-02 RP SELF")
  .option("--no-chaos", "skip the disruptive NF suite")
  .option(
    "--chaos-driver <names...>",
    "run the NF suite only for these reference drivers (CI uses csi-hostpath flex-loop)",
  )
  .option("--report-dir <dir>", "where this run's results go; new or empty")
  .addOption(chaosClustersOption())
  .addOption(deadlineOption())
  .action(async (opts) => {
    const { runMain } = await import("./run.ts");
    process.exitCode = await runMain({
      mode: "test",
      chaosClusters: opts.chaosClusters,
      ...(opts.deadline !== undefined ? { deadlineMs: opts.deadline } : {}),
      ...(opts.reportDir ? { reportDir: opts.reportDir } : {}),
      chaos: opts.chaos,
      ...(opts.chaosDriver ? { chaosDrivers: opts.chaosDriver } : {}),
      keepCluster: !!opts.keepCluster,
      unitOnly: !!opts.unitOnly,
      workers: 2,
      name: opts.name,
      reuse: !!opts.reuse,
      ...(opts.driver ? { drivers: opts.driver } : {}),
      ...(opts.case ? { cases: opts.case } : {}),
    });
  });

const cluster = program.command("cluster").description("create, list and delete volcert's kind clusters");
cluster
  .command("up")
  .description("create a kind cluster from the hermetic node image")
  .option("--name <name>", "cluster name (must start with volcert-)", "volcert-dev")
  .addOption(workersOption())
  .option("--default-storage-class", "keep kind's `standard` default StorageClass")
  .option(
    "--shared-storage",
    "give every node the cluster's shared storage (a host directory of its own), for drivers with spec.cluster.sharedStorage",
  )
  .action(async (opts) => {
    const c = await import("./cluster-commands.ts");
    await c.clusterUp({
      name: opts.name,
      workers: opts.workers,
      defaultStorageClass: !!opts.defaultStorageClass,
      sharedStorage: !!opts.sharedStorage,
    });
  });
cluster
  .command("down")
  .description("delete volcert clusters")
  .argument("<names...>")
  .action(async (names) => (await import("./cluster-commands.ts")).clusterDown(names));
cluster
  .command("list")
  .description("list kind clusters (volcert's are named volcert-*)")
  .action(async () => (await import("./cluster-commands.ts")).clusterList());
cluster
  .command("kubeconfig")
  .description("print the kubeconfig path of a volcert cluster")
  .argument("<name>")
  .action(async (name) => (await import("./cluster-commands.ts")).clusterKubeconfig(name));
cluster
  .command("heal")
  .argument("<name>")
  .description(
    "restore a kept or reused cluster that a stopped run left faulted (from the run journals: start or unpause nodes, start the kubelet, remove the partition chain, uncordon, untaint, restore patched DaemonSets), then check its health",
  )
  .action(async (name) => (await import("./cluster-commands.ts")).clusterHeal(name));
cluster
  .command("sweep")
  .description(
    "remove what ended runs left behind: clusters volcert created, their loop devices, build containers and unfinished build outputs; never what a running volcert holds",
  )
  .option(
    "--force",
    "also remove kind clusters volcert has no record of creating, and build containers of running builds",
  )
  .action(async (opts) => (await import("./cluster-commands.ts")).sweep({ force: !!opts.force }));

const docker = program.command("docker").description("what volcert changed in the host's Docker configuration");
docker
  .command("unshim")
  .description(
    "remove volcert's runtime shim and restore dockerd's previous default runtime (reloads dockerd; restarts it only if that is safe, or with --yes)",
  )
  .action(async () => (await import("./docker-commands.ts")).dockerUnshim());

const images = program.command("images").description("the hermetic image toolchain (no container registry needed)");
images
  .command("build")
  .description("build (or reuse from cache) every image volcert needs")
  .argument("[steps...]", "only these build steps and what they depend on")
  .action(async (steps) => (await import("./image-commands.ts")).imagesBuild(steps));
images
  .command("list")
  .description("list the build steps, their cache state and the images they produce")
  .action(async () => (await import("./image-commands.ts")).imagesList());

program
  .command("cases")
  .description("list every test ID with its area, title and what a driver must declare for it to apply")
  .option("--driver <name-or-path>", "mark which cases are in this driver's certification profile")
  .option("--markdown", "print the catalog as Markdown (docs/catalog.md)")
  .action(async (opts) => {
    if (opts.markdown) process.stdout.write((await import("../../suites/catalog-doc.ts")).catalogMarkdown());
    else await (await import("./case-commands.ts")).listCases(opts.driver);
  });

const drivers = program.command("drivers").description("driver definition files");
drivers
  .command("validate")
  .description("check driver files (volcert or upstream storage.testdriver format); lists every problem")
  .argument("<files...>")
  .action(async (files) => (await import("./driver-commands.ts")).driversValidate(files));
drivers
  .command("import")
  .description("write the volcert driver file equivalent to an upstream storage.testdriver file, to complete")
  .argument("<testdriver>", "the upstream file (the one given to e2e.test -storage.testdriver)")
  .option("-o, --output <file>", "write it to this new file (default: print it)")
  .action(async (file, opts) => (await import("./driver-commands.ts")).driversImport(file, opts.output));
drivers
  .command("schema")
  .description("print the JSON Schema of driver definition files (for editors)")
  .action(async () => (await import("./driver-commands.ts")).driversSchema());
drivers
  .command("reference")
  .description("print the Markdown reference of driver definition files (as in docs/driver-reference.md)")
  .action(async () => (await import("./driver-commands.ts")).driversReference());

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander printed the problem (and the help) already; --help and --version exit 0.
    process.exitCode = err.exitCode === 0 ? 0 : exitCodes.config;
  } else {
    process.stderr.write(`${describeError(err)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
