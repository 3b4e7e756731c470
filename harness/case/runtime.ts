/**
 * One conformance case, the same way every time: labels and test ID in the report, capability
 * gating decided before any cluster work (a skip carries its reason), a namespace of its own,
 * evidence attached automatically on failure, and a leak check at the end.
 */
import { test, type TestContext } from "vitest";
import { describeError } from "../core/errors.ts";
import { skipReason, type Requirement } from "../drivers/capabilities.ts";
import type { DriverFile } from "../drivers/schema.ts";
import { attachText, describeCase, labelCase } from "../evidence/allure.ts";
import { collectEvidence } from "../evidence/collect.ts";
import { findLeaks, settleVolumes } from "../evidence/leaks.ts";
import { driverTimeout } from "../drivers/timeouts.ts";
import type { Kube, V1Pod } from "../k8s/kube.ts";
import { clusterEnv } from "./cluster-env.ts";
import { createNamespace } from "./namespace.ts";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InfraError } from "../core/errors.ts";
import type { Fault } from "../faults/fault.ts";
import { waitForHealthyCluster } from "../faults/health.ts";
import { Timeline } from "../faults/timeline.ts";
import type { ClusterEnv } from "./cluster-env.ts";
import { keepCaseResources, writeReproRecord } from "../repro/record.ts";

export interface CaseMeta {
  id: string;
  title: string;
  area: string;
  /** What the case asserts, shown in the report. */
  asserts: string;
  requires?: Requirement;
  /**
   * Injects faults into nodes or the control plane. Runs only on clusters volcert created (unless
   * VOLCERT_ALLOW_DISRUPTIVE=true), only in the serial chaos project, after a health check, and is
   * followed by healing every fault and another health check.
   */
  disruptive?: boolean;
  /** What the correct outcome is for this driver (node-local storage cannot follow a pod), shown in the report. */
  expectation?: (d: DriverFile | undefined) => string;
}

export interface CaseContext {
  kube: Kube;
  ns: string;
  cluster: string;
  runId: string;
  driver: DriverFile | undefined;
  /** Worker node names (nodes without the control-plane role), sorted. */
  workers: string[];
  /** Creates a pod in the case namespace and remembers its UID for the leak check. */
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Remembers a pod a controller created (StatefulSet, Deployment) for the leak check. */
  trackPod(pod: V1Pod): void;
  /** Node paths of a provisioned volume's data: the leak check requires them gone after the case. */
  trackVolumeData(paths: readonly string[]): void;
  /** Disruptive cases: what happened when (attached to the report). */
  timeline: Timeline;
  /** Registers a fault: healed (idempotently) before anything else is cleaned up, pass or fail. */
  guard(fault: Fault): Fault;
  /** Nodes the cluster should have (for health checks). */
  expectedNodes: number;
  /** Disposed (in reverse order) when the case ends, failed or not, after its namespace is gone. */
  defer<T extends AsyncDisposable>(resource: T): T;
  test: TestContext;
}

export interface Case {
  meta: CaseMeta;
  body: (c: CaseContext) => Promise<void>;
}

/** Registers each case once per driver (or once, for driver-independent areas). */
export function registerCases(cases: readonly Case[], drivers?: readonly DriverFile[]): void {
  for (const c of cases) {
    if (drivers) for (const d of drivers) defineCase(c.meta, c.body, d);
    else defineCase(c.meta, c.body);
  }
}

export function defineCase(meta: CaseMeta, body: (c: CaseContext) => Promise<void>, driver?: DriverFile): void {
  const title = `${meta.id} ${meta.title}${driver ? ` [${driver.metadata.name}]` : ""}`;
  // Cases are independent (own namespace, storage class name, volume names): run them concurrently,
  // up to the e2e project's maxConcurrency (VOLCERT_PARALLEL).
  test.concurrent(title, async (t) => runCase(meta, body, driver, t));
}

/** Runs one case body with the full lifecycle; exported so volcert's self-tests can run a case against a broken driver. */
export async function runCase(
  meta: CaseMeta,
  body: (c: CaseContext) => Promise<void>,
  driver: DriverFile | undefined,
  t: TestContext,
): Promise<void> {
  {
    await labelCase({ id: meta.id, area: meta.area, ...(driver ? { driver: driver.metadata.name } : {}) });
    const reason = driver && meta.requires ? skipReason(driver, meta.requires) : null;
    if (reason) {
      await describeCase(`**Skipped:** ${reason}\n\nAsserts: ${meta.asserts}`);
      t.skip(reason);
    }
    const env = clusterEnv();
    const expectation = meta.expectation?.(driver);
    await describeCase(
      `Asserts: ${meta.asserts}${expectation ? `\n\n**Expected for this driver:** ${expectation}` : ""}`,
    );
    if (meta.disruptive) await beforeDisruptive(meta, env, t);
    const ns = await createNamespace(env.kube, meta.id, env.runId);
    const podUids: string[] = [];
    const dataPaths = new Set<string>();
    const deferred: AsyncDisposable[] = [];
    const faults: Fault[] = [];
    const timeline = new Timeline();
    const nodes = await env.kube.core.listNode();
    const workers = nodes.items
      .filter((n) => n.metadata?.labels?.["node-role.kubernetes.io/control-plane"] === undefined)
      .map((n) => n.metadata?.name as string)
      .sort();
    const disposeAll = async () => {
      try {
        if (meta.disruptive) await afterDisruptive(meta, env, faults, timeline);
      } finally {
        // Even when healing failed, what the case created goes (unless repro mode keeps it for inspection).
        if (!keepCaseResources()) {
          await Promise.resolve(ns[Symbol.asyncDispose]()).catch(() => undefined);
          for (const r of deferred.reverse()) await Promise.resolve(r[Symbol.asyncDispose]()).catch(() => undefined);
        }
      }
    };
    const ctx: CaseContext = {
      kube: env.kube,
      ns: ns.name,
      cluster: env.name,
      runId: env.runId,
      driver,
      workers,
      test: t,
      timeline,
      expectedNodes: env.expectedNodes,
      guard(fault) {
        faults.push(fault);
        return fault;
      },
      trackVolumeData(paths) {
        for (const p of paths) dataPaths.add(p);
      },
      defer(resource) {
        deferred.push(resource);
        return resource;
      },
      trackPod(pod) {
        const uid = pod.metadata?.uid;
        if (uid && !podUids.includes(uid)) podUids.push(uid);
      },
      async createPod(pod) {
        const created = await env.kube.core.createNamespacedPod({ namespace: ns.name, body: pod });
        if (created.metadata?.uid) podUids.push(created.metadata.uid);
        return created;
      },
    };
    const attachEvidence = async () => {
      for (const e of await collectEvidence(env.kube, ns.name, env.name)) await attachText(e.name, e.content, e.type);
    };
    if (expectation) timeline.mark(`expectation: ${expectation}`);
    const keep = async (outcome: "passed" | "failed", err?: unknown) => {
      if (!keepCaseResources()) return;
      const file = await writeReproRecord(env.kube, {
        id: meta.id,
        title: meta.title,
        driver: driver?.metadata.name,
        namespace: ns.name,
        outcome,
        error: err === undefined ? undefined : describeError(err),
      });
      await attachText(
        "kept for debugging",
        `namespace ${ns.name} and its volumes were kept (repro mode); record: ${file}`,
      );
    };
    try {
      await body(ctx);
    } catch (err) {
      await keep("failed", err).catch(() => undefined);
      await attachEvidence().catch(async (e: unknown) => {
        await attachText("evidence collection failed", describeError(e));
      });
      await disposeAll().catch(async (e: unknown) =>
        attachText("cleanup after the failure also failed", describeError(e)),
      );
      throw err;
    }
    try {
      await keep("passed");
    } finally {
      await disposeAll();
    }
    if (keepCaseResources()) return; // nothing was cleaned up, so there is nothing to leak-check
    // Dynamically provisioned volumes are deleted asynchronously once their claims are gone.
    await settleVolumes(env.kube, ns.name, env.name, [...dataPaths], driverTimeout(driver, "pvDelete"));
    const leaks = await findLeaks(env.kube, {
      cluster: env.name,
      namespace: ns.name,
      podUids,
      volumeDirPrefix: ns.name,
      loopBackingMarkers: [`/${ns.name}-`],
      dataPaths: [...dataPaths],
    });
    if (leaks.length) {
      await attachText("leaks", leaks.join("\n"));
      await attachEvidence();
      throw new Error(`leak check failed after ${meta.id}:\n${leaks.map((l) => `  - ${l}`).join("\n")}`);
    }
  }
}

/** Where a run records that a fault could not be healed: every later disruptive case is infrastructure-broken. */
function brokenMarker(): string {
  return join(process.env["VOLCERT_RESULTS_DIR"] ?? "reports", "cluster-broken.txt");
}

async function beforeDisruptive(meta: CaseMeta, env: ClusterEnv, t: TestContext): Promise<void> {
  if (!env.createdByVolcert && process.env["VOLCERT_ALLOW_DISRUPTIVE"] !== "true") {
    t.skip("disruptive case on a cluster volcert did not create: pass --allow-disruptive to run it anyway");
  }
  const marker = brokenMarker();
  if (existsSync(marker))
    throw new InfraError(
      `cluster could not be healed earlier in this run, so ${meta.id} cannot judge the driver: ${readFileSync(marker, "utf8").trim()}`,
    );
  await waitForHealthyCluster(env.kube, env.expectedNodes, 3 * 60_000).catch((err: unknown) => {
    throw new InfraError(
      `cluster unhealthy before ${meta.id}, not a driver failure: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
}

async function afterDisruptive(meta: CaseMeta, env: ClusterEnv, faults: Fault[], timeline: Timeline): Promise<void> {
  const problems: string[] = [];
  for (const f of [...faults].reverse()) {
    await f
      .heal()
      .catch((err: unknown) => problems.push(`heal "${f.name}": ${err instanceof Error ? err.message : String(err)}`));
  }
  await waitForHealthyCluster(env.kube, env.expectedNodes).then(
    () => timeline.mark("cluster healthy again"),
    (err: unknown) => problems.push(err instanceof Error ? err.message : String(err)),
  );
  await attachText("fault timeline", timeline.text());
  if (problems.length) {
    writeFileSync(brokenMarker(), `after ${meta.id}: ${problems.join("; ")}\n`);
    throw new InfraError(
      `the cluster could not be healed after ${meta.id}; later disruptive cases are marked infrastructure-broken:\n  - ${problems.join("\n  - ")}`,
    );
  }
}
