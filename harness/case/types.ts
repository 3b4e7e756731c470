/**
 * What a case is (metadata + body) and what its body gets (the case context). A suite is a list
 * of cases defined once; the runtime registers it per driver. Driver cases get the driver file
 * itself (`c.driver` is never undefined); cluster cases (emptyDir, smoke) have no driver.
 */
import type { TestContext } from "vitest";
import type { NodeLifecycle, NodeShell } from "../core/nodes.ts";
import type { DriverFile } from "../drivers/schema.ts";
import type { Fault } from "../faults/fault.ts";
import type { Timeline } from "../faults/timeline.ts";
import type { Kube, V1Pod } from "../k8s/kube.ts";
import type { CaseRequirement } from "./gate.ts";

export interface CaseMeta {
  id: string;
  title: string;
  area: string;
  /** What the case asserts, shown in the report. */
  asserts: string;
  /** Decided before any cluster work; a case that does not apply is skipped with the reason. */
  requires?: CaseRequirement;
  /**
   * Injects faults into nodes or the control plane. Runs only on clusters volcert created (unless
   * --allow-disruptive), only in the serial chaos project, after a health check, and is followed
   * by healing every fault and another health check.
   */
  disruptive?: boolean;
  /**
   * The case checks the driver's installation (IN-01, IN-02): if the install failed, this case
   * fails with the install's error and evidence; the driver's other cases are skipped.
   */
  verifiesInstall?: boolean;
  /** What the correct outcome is for this driver (node-local storage cannot follow a pod), shown in the report. */
  expectation?: (d: DriverFile) => string;
}

export interface ClusterCaseContext {
  kube: Kube;
  /** The case's own namespace (deleted when the case ends, unless repro mode keeps it). */
  ns: string;
  cluster: string;
  runId: string;
  /** Where the run writes its records. */
  runDir: string;
  /** Worker node names (nodes without the control-plane role), sorted. */
  workers: string[];
  /** Nodes the cluster should have (for health checks). */
  expectedNodes: number;
  /** A shell on the cluster's nodes. */
  nodes: NodeShell;
  /** Node power and freezing, where the provider offers it (gate with `requires.nodeLifecycle`). */
  lifecycle: NodeLifecycle | undefined;
  images: { workload: string };
  /** Aborted when the case's budget is spent or Vitest gives up on it; waits and commands already use it. */
  signal: AbortSignal;
  /** Creates a pod in the case namespace and remembers its UID for the leak check. */
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Remembers a pod a controller created (StatefulSet, Deployment) for the leak check. */
  trackPod(pod: V1Pod): void;
  /** Node paths of a provisioned volume's data: the leak check requires them gone after the case. */
  trackVolumeData(paths: readonly string[]): void;
  /** What happened when (attached to the report; disruptive cases mark every fault on it). */
  timeline: Timeline;
  /** Registers a fault: healed (idempotently) before anything else is cleaned up, pass or fail. */
  guard(fault: Fault): Fault;
  /**
   * Registers something to dispose when the case ends (after its namespace is gone, last
   * registered first), passed or failed.
   */
  defer<T extends AsyncDisposable>(resource: T, name?: string): T;
  /** Records, in the report, a check of this case that cannot apply to this driver, and why. */
  notApplicable(check: string, reason: string): Promise<void>;
  test: TestContext;
}

export interface CaseContext extends ClusterCaseContext {
  driver: DriverFile;
}

export interface Case<C extends ClusterCaseContext = CaseContext> {
  meta: CaseMeta;
  body: (c: C) => Promise<void>;
}

export type ClusterCase = Case<ClusterCaseContext>;
