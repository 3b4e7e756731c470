/**
 * volcert command table. Each command body lives in its own module and is loaded lazily, so
 * `volcert --help` is instant and a command only pays for what it uses.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { describeError, exitCodeFor } from "../core/errors.ts";

const program = new Command()
  .name("volcert")
  .description("Conformance and chaos harness for Kubernetes storage drivers, on hermetic kind clusters")
  .showHelpAfterError();

const workersOption = () =>
  new Option("--workers <n>", "worker nodes (0-3)").default(2).argParser((v) => Number.parseInt(v, 10));

program
  .command("run")
  .description("main job: build what is missing, create a fresh cluster, run the suites, write the report")
  .option("--keep-cluster", "keep the cluster afterwards (prints how to reach it)")
  .option("--name <name>", "cluster name (default: volcert-run-<id>)")
  .option("--reuse", "run on the existing volcert cluster --name instead of creating one (it is kept afterwards)")
  .option("--driver <names...>", "only these reference drivers (directory names under fixtures/drivers)")
  .option("--case <ids...>", "only these test IDs or areas, e.g. --case DP-02 RP")
  .option("--no-chaos", "skip the disruptive NF suite")
  .option("--allow-disruptive", "allow NF cases on a cluster volcert did not create (--reuse of a foreign cluster)")
  .option("--chaos-driver <names...>", "run the NF suite only for these reference drivers")
  .addOption(workersOption())
  .action(async (opts) => {
    const { runMain } = await import("./run.ts");
    process.exitCode = await runMain({
      mode: "run",
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
  .option("--driver <name>", "the driver (directory name under fixtures/drivers); omit for driver-independent cases")
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
  .option(
    "--driver <names...>",
    "only these drivers (directory names under fixtures/drivers, broken fixtures included)",
  )
  .option("--case <ids...>", "only these test IDs or areas, e.g. --case DP-02 RP SELF")
  .option("--no-chaos", "skip the disruptive NF suite")
  .option(
    "--chaos-driver <names...>",
    "run the NF suite only for these reference drivers (CI uses csi-hostpath flex-loop)",
  )
  .action(async (opts) => {
    const { runMain } = await import("./run.ts");
    process.exitCode = await runMain({
      mode: "test",
      chaos: opts.chaos,
      ...(opts.chaosDriver ? { chaosDrivers: opts.chaosDriver } : {}),
      keepCluster: !!opts.keepCluster || !!opts.reuse,
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
  .action(async (opts) => {
    const c = await import("./cluster-commands.ts");
    await c.clusterUp({ name: opts.name, workers: opts.workers, defaultStorageClass: !!opts.defaultStorageClass });
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
  .command("sweep")
  .description("delete every leftover volcert cluster, assembly container and loop device")
  .action(async () => (await import("./cluster-commands.ts")).sweep());

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

const drivers = program.command("drivers").description("driver definition files");
drivers
  .command("validate")
  .description("check driver files (volcert or upstream storage.testdriver format); lists every problem")
  .argument("<files...>")
  .action(async (files) => (await import("./driver-commands.ts")).driversValidate(files));
drivers
  .command("schema")
  .description("print the JSON Schema of driver definition files (for editors)")
  .action(async () => (await import("./driver-commands.ts")).driversSchema());

try {
  await program.parseAsync();
} catch (err) {
  process.stderr.write(`${describeError(err)}\n`);
  process.exitCode = exitCodeFor(err);
}
