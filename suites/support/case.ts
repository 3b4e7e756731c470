/**
 * One conformance case, the same way every time: labels and test ID in the report, capability
 * gating decided before any cluster work (a skip carries its reason), a namespace of its own,
 * evidence attached automatically on failure, and a leak check at the end.
 */
import { test, type TestContext } from "vitest";
import { describeError } from "../../harness/core/errors.ts";
import { skipReason, type Requirement } from "../../harness/drivers/capabilities.ts";
import type { DriverFile } from "../../harness/drivers/schema.ts";
import { attachText, describeCase, labelCase } from "../../harness/evidence/allure.ts";
import { collectEvidence } from "../../harness/evidence/collect.ts";
import { findLeaks } from "../../harness/evidence/leaks.ts";
import type { Kube, V1Pod } from "../../harness/k8s/kube.ts";
import { clusterEnv } from "./cluster-env.ts";
import { createNamespace } from "./namespace.ts";

export interface CaseMeta {
  id: string;
  title: string;
  area: string;
  /** What the case asserts, shown in the report. */
  asserts: string;
  requires?: Requirement;
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
export async function runCase(meta: CaseMeta, body: (c: CaseContext) => Promise<void>, driver: DriverFile | undefined, t: TestContext): Promise<void> {
  {
    await labelCase({ id: meta.id, area: meta.area, ...(driver ? { driver: driver.metadata.name } : {}) });
    const reason = driver && meta.requires ? skipReason(driver, meta.requires) : null;
    if (reason) {
      await describeCase(`**Skipped:** ${reason}\n\nAsserts: ${meta.asserts}`);
      t.skip(reason);
    }
    await describeCase(`Asserts: ${meta.asserts}`);
    const env = clusterEnv();
    const ns = await createNamespace(env.kube, meta.id, env.runId);
    const podUids: string[] = [];
    const deferred: AsyncDisposable[] = [];
    const nodes = await env.kube.core.listNode();
    const workers = nodes.items
      .filter((n) => n.metadata?.labels?.["node-role.kubernetes.io/control-plane"] === undefined)
      .map((n) => n.metadata?.name as string)
      .sort();
    const disposeAll = async () => {
      await Promise.resolve(ns[Symbol.asyncDispose]()).catch(() => undefined);
      for (const r of deferred.reverse()) await Promise.resolve(r[Symbol.asyncDispose]()).catch(() => undefined);
    };
    const ctx: CaseContext = {
      kube: env.kube,
      ns: ns.name,
      cluster: env.name,
      runId: env.runId,
      driver,
      workers,
      test: t,
      defer(resource) {
        deferred.push(resource);
        return resource;
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
    try {
      await body(ctx);
    } catch (err) {
      await attachEvidence().catch(async (e: unknown) => {
        await attachText("evidence collection failed", describeError(e));
      });
      await disposeAll();
      throw err;
    }
    await disposeAll();
    const leaks = await findLeaks(env.kube, { cluster: env.name, namespace: ns.name, podUids, volumeDirPrefix: ns.name, loopBackingMarkers: [`/${ns.name}-`] });
    if (leaks.length) {
      await attachText("leaks", leaks.join("\n"));
      await attachEvidence();
      throw new Error(`leak check failed after ${meta.id}:\n${leaks.map((l) => `  - ${l}`).join("\n")}`);
    }
  }
}
