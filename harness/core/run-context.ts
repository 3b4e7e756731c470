/**
 * What a run hands to its test workers: plain, serialisable data, provided once by the CLI with
 * Vitest's provide/inject (never through environment variables). Built by `planRun`
 * (harness/cli/plan.ts); read in workers by `runContext()` (harness/case/run-context.ts).
 */
import type { ErrorCategory } from "./errors.ts";

export interface RunCluster {
  name: string;
  provider: "kind" | "kubeconfig";
  kubeconfig: string;
  /** Disruptive cases run only where this is true, unless `allowDisruptive`. */
  createdByVolcert: boolean;
  /** Nodes the cluster was created with (control plane included), for health checks. */
  expectedNodes: number;
  /** Worker node names (nodes without the control-plane role), sorted; read once by the CLI. */
  workers: string[];
  /** The provider can power nodes off and freeze them (kind). */
  nodeLifecycle: boolean;
}

export interface RunDriver {
  name: string;
  /** Absolute path of the driver file (volcert or upstream format). */
  file: string;
  /**
   * The definition as the CLI loaded and validated it (an upstream file mapped, its
   * StorageClass.FromFile read): workers use this, never a re-read of the file, so every process
   * tests the same definition. A DriverFile (harness/drivers/schema.ts) as plain data.
   */
  definition: unknown;
  /**
   * The test IDs registered for this driver here, when its NF cases are dealt to several chaos
   * clusters (harness/cli/chaos-lanes.ts); absent: every case.
   */
  cases?: string[];
}

export interface RunContext {
  runId: string;
  /** The run's journal file (harness/core/journal.ts): workers record faults and loop devices there. */
  journal: string;
  /**
   * Written when the run is stopped (Ctrl-C, SIGTERM, deadline, or the CLI died): Vitest starts a
   * worker per test file, and a worker started after the signal learns it from this file.
   */
  stopFile: string;
  /** Where this run writes its records (repro records, DP-10 samples...). */
  runDir: string;
  cluster: RunCluster;
  kubectl: string;
  /** Image names the suites' own pods use. */
  images: { workload: string };
  /** What volcert built the cluster from (absent for a cluster it did not build). */
  built?: { kubernetesVersion: string; corednsImage: string };
  /** Drivers whose cases this worker registers (the chaos project gets the chaos drivers). */
  drivers: RunDriver[];
  /** Broken fixture drivers installed for volcert's self-tests (test mode only). */
  brokenFixtures: RunDriver[];
  allowDisruptive: boolean;
  /** Repro mode: keep each case's namespace and volumes. */
  keepCase: boolean;
  /**
   * Drivers that failed to install: their install cases fail with this (category, message,
   * evidence files), their other cases are skipped with the reason.
   */
  installFailures: { driver: string; category: ErrorCategory; message: string; evidence: string[] }[];
}

export const RUN_CONTEXT_KEY = "volcertRun";

declare module "vitest" {
  export interface ProvidedContext {
    volcertRun: RunContext;
  }
}
