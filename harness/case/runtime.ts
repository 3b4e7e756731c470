/**
 * One conformance case, the same way every time: labels and test ID in the report, the gate
 * decided before any cluster work (a skip carries its reason), one time budget, a namespace of
 * its own, evidence attached automatically on failure, faults healed, everything disposed, and a
 * leak check at the end. The phases themselves are in execute.ts; this file wires them to the
 * cluster, the report and Vitest.
 */
import { test, type TestContext } from "vitest";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { describeError, DriverDefect, errorOfCategory, HarnessBug, InfraError } from "../core/errors.ts";
import { workerStopSignal } from "../core/interrupt.ts";
import { nodeAccess } from "../core/nodes.ts";
import type { DriverFile } from "../drivers/schema.ts";
import { driverTimeout } from "../drivers/timeouts.ts";
import { attachText, describeCase, labelCase, logStep, reportStep } from "../evidence/allure.ts";
import type { Fault } from "../faults/fault.ts";
import { driverFootprint, waitForHealthyCluster } from "../faults/health.ts";
import { Timeline } from "../faults/timeline.ts";
import { writeReproRecord } from "../repro/record.ts";
import { caseBudget } from "./budget.ts";
import { DisposalFailed, DisposalStack } from "../core/disposal.ts";
import { caseEvidence, caseLeakCheck } from "./evidence.ts";
import { executeCase, type CasePhases } from "./execute.ts";
import { gateReason } from "./gate.ts";
import { clusterBrokenReason, healFaults, healVerdict, markClusterBroken } from "./heal.ts";
import { createNamespace } from "./namespace.ts";
import { driverCaseSubset, runContext, runKube } from "./run-context.ts";
import type { Case, ClusterCase, ClusterCaseContext } from "./types.ts";

export type { Case, CaseContext, CaseMeta, ClusterCase, ClusterCaseContext } from "./types.ts";

/** Registers each case once per driver. */
export function registerCases(cases: readonly Case[], drivers: readonly DriverFile[]): void {
  // A run of broken fixtures only (volcert test --driver <broken> --case SELF) certifies no driver:
  // say so in one skipped test instead of an empty suite, which Vitest reports as an error.
  if (!drivers.length) {
    test.skip(`no driver under test in this run for ${cases.map((c) => c.meta.id).join(", ")}`);
    return;
  }
  for (const d of drivers) {
    // A driver whose NF cases are dealt to several chaos clusters registers here only those of this one.
    const only = driverCaseSubset(d.metadata.name);
    for (const c of cases) if (!only || only.has(c.meta.id)) registerOne(c as Case<ClusterCaseContext>, d);
  }
}

/** Registers driver-independent cases (emptyDir, cluster checks) once. */
export function registerClusterCases(cases: readonly ClusterCase[]): void {
  for (const c of cases) registerOne(c, undefined);
}

function registerOne(kase: Case<ClusterCaseContext>, driver: DriverFile | undefined): void {
  const title = `${kase.meta.id} ${kase.meta.title}${driver ? ` [${driver.metadata.name}]` : ""}`;
  // Cases are independent (own namespace, storage class name, volume names): run them concurrently,
  // up to the project's maxConcurrency. Vitest's timeout sits above the case's own budget.
  test.concurrent(title, (t) => runCase(kase, driver, t), caseBudget(driver, !!kase.meta.disruptive).vitestMs);
}

/** Runs one case with the full lifecycle (also used by volcert's self-tests against broken drivers). */
export async function runCase<C extends ClusterCaseContext>(
  kase: Case<C>,
  driver: DriverFile | undefined,
  t: TestContext,
): Promise<void> {
  const { meta } = kase;
  const run = runContext();
  await labelCase({ id: meta.id, area: meta.area, ...(driver ? { driver: driver.metadata.name } : {}) });
  const reason = gateReason(meta.requires, !!meta.disruptive, driver, {
    workers: run.cluster.workers.length,
    nodeLifecycle: run.cluster.nodeLifecycle,
    createdByVolcert: run.cluster.createdByVolcert,
    allowDisruptive: run.allowDisruptive,
  });
  if (reason) {
    await describeCase(`**Skipped:** ${reason}\n\nAsserts: ${meta.asserts}`);
    t.skip(reason);
    return;
  }
  if (meta.requires && !driver) throw new HarnessBug(`${meta.id} states driver requirements but has no driver`);
  const installFailure = driver && run.installFailures.find((f) => f.driver === driver.metadata.name);
  if (installFailure) {
    if (!meta.verifiesInstall) {
      const why = `driver ${installFailure.driver} failed to install (its installation case fails with the reason and evidence), so it cannot be tested`;
      await describeCase(`**Skipped:** ${why}\n\nAsserts: ${meta.asserts}`);
      t.skip(why);
      return;
    }
    await describeCase(`Asserts: ${meta.asserts}\n\n**The driver failed to install.**`);
    for (const file of installFailure.evidence) {
      await attachText(`install: ${basename(file)}`, await readFile(file, "utf8").catch((e: unknown) => String(e)));
    }
    throw errorOfCategory(installFailure.category, installFailure.message);
  }
  const expectation = driver && meta.expectation?.(driver);
  await describeCase(
    `Asserts: ${meta.asserts}${expectation ? `\n\n**Expected for this driver:** ${expectation}` : ""}`,
  );

  const stopped = workerStopSignal();
  if (stopped.aborted) {
    const why = `not run: ${stopped.reason instanceof Error ? stopped.reason.message : String(stopped.reason)}`;
    await describeCase(`**Skipped:** ${why}\n\nAsserts: ${meta.asserts}`);
    t.skip(why);
    return;
  }
  const budget = caseBudget(driver, !!meta.disruptive);
  // Ctrl-C stops the body; the cleanup (heal, dispose, leak check) has its own signal and still runs.
  const body = AbortSignal.any([
    budgetSignal(t.signal, budget.bodyMs, `${meta.id}'s budget of ${Math.round(budget.bodyMs / 60_000)} min`),
    stopped,
  ]);
  const cleanup = budgetSignal(t.signal, budget.cleanupMs, `${meta.id}'s cleanup allowance`);
  const kube = runKube();
  const timeline = new Timeline();
  if (expectation) timeline.mark(`expectation: ${expectation}`);
  const faults: Fault[] = [];
  const podUids = new Set<string>();
  const dataPaths = new Set<string>();
  let ns = "";
  const footprint = driverFootprint(driver);
  const leakCheck = caseLeakCheck(kube);

  const phases: CasePhases<C> = {
    async precheck() {
      if (!meta.disruptive) return;
      const broken = clusterBrokenReason(run.runDir);
      if (broken)
        throw new InfraError(
          `cluster could not be healed earlier in this run, so ${meta.id} cannot judge the driver: ${broken}`,
        );
      const health = await waitForHealthyCluster(kube, run.cluster.expectedNodes, {
        timeoutMs: 3 * 60_000,
        driver: footprint,
      });
      if (health.infrastructure.length) {
        throw new InfraError(
          `cluster unhealthy before ${meta.id}, not a driver failure: ${health.infrastructure.join("; ")}`,
        );
      }
      if (health.driver.length) {
        throw new DriverDefect(
          `the driver's own workloads are not healthy before ${meta.id}: ${health.driver.join("; ")}`,
        );
      }
    },
    async acquire(stack) {
      // The namespace goes first (its claims release the case's PVs), then what the body deferred.
      const resources = new DisposalStack();
      stack.defer("resources of the case", async () => {
        const failed = await resources.dispose();
        if (failed.length) throw new DisposalFailed(failed);
      });
      const namespace = stack.use("namespace", await createNamespace(kube, meta.id, run.runId));
      ns = namespace.name;
      await leakCheck.baseline();
      const access = nodeAccess();
      const ctx: ClusterCaseContext = {
        kube,
        ns,
        cluster: run.cluster.name,
        runId: run.runId,
        runDir: run.runDir,
        workers: run.cluster.workers,
        expectedNodes: run.cluster.expectedNodes,
        nodes: access.shell,
        lifecycle: access.lifecycle,
        images: run.images,
        signal: body,
        timeline,
        test: t,
        guard(fault) {
          faults.push(fault);
          return fault;
        },
        trackVolumeData(paths) {
          for (const p of paths) dataPaths.add(p);
        },
        defer(resource, name = "case resource") {
          return resources.use(name, resource);
        },
        trackPod(pod) {
          if (pod.metadata?.uid) podUids.add(pod.metadata.uid);
        },
        async createPod(pod) {
          const created = await kube.core.createNamespacedPod({ namespace: ns, body: pod });
          if (created.metadata?.uid) podUids.add(created.metadata.uid);
          return created;
        },
        async notApplicable(check, why) {
          timeline.mark(`not applicable: ${check} (${why})`);
          await logStep(`not applicable to this driver: ${check}: ${why}`);
        },
      };
      return (driver ? { ...ctx, driver } : ctx) as C;
    },
    run: (ctx) => kase.body(ctx),
    async evidence(failure) {
      await caseEvidence(kube, ns || undefined, failure);
    },
    async heal() {
      if (!meta.disruptive) return null;
      // Stopped (Ctrl-C) before any fault: the cluster's health is not this case's to judge.
      if (stopped.aborted && !faults.length) return null;
      const outcome = await healFaults(
        faults,
        () => waitForHealthyCluster(kube, run.cluster.expectedNodes, { driver: footprint }),
        (what) => timeline.mark(what),
      );
      await attachText("fault timeline", timeline.text());
      if (outcome.infrastructure.length) markClusterBroken(run.runDir, meta.id, outcome.infrastructure);
      return healVerdict(meta.id, outcome);
    },
    async keepRecord(failure) {
      if (!ns) return;
      const file = await writeReproRecord(kube, run.runDir, {
        id: meta.id,
        title: meta.title,
        driver: driver?.metadata.name,
        namespace: ns,
        outcome: failure === undefined ? "passed" : "failed",
        error: failure === undefined ? undefined : describeError(failure),
      });
      await attachText("kept for debugging", `namespace ${ns} and its volumes were kept (repro mode); record: ${file}`);
    },
    async leakScope() {
      if (ns) await leakCheck.recordScope(ns);
    },
    async leaks() {
      if (!ns) return null; // nothing was created
      return leakCheck.run({ namespace: ns, podUids, dataPaths, settleMs: driverTimeout(driver, "pvDelete") });
    },
    report: (name, text) => attachText(name, text),
    step: (name, error) => reportStep(name, error),
  };
  try {
    await executeCase(phases, {
      caseId: meta.id,
      policy: run.keepCase ? "keep" : "dispose",
      bodySignal: body,
      cleanupSignal: cleanup,
      onTimings: (laps) => attachText("phase timings", laps.map(([phase, ms]) => `${phase}\t${ms} ms`).join("\n")),
    });
  } catch (err) {
    // Cut short by Ctrl-C: no verdict either way (its cleanup ran; the CLI heals what is left).
    if (!stopped.aborted) throw err;
    const why = `stopped before the end: ${stopped.reason instanceof Error ? stopped.reason.message : String(stopped.reason)}`;
    timeline.mark(why);
    await attachText("stopped", why);
    t.skip(why);
  } finally {
    if (!meta.disruptive && timeline.entries.length > (expectation ? 1 : 0))
      await attachText("timeline", timeline.text());
  }
}

/** Aborted when Vitest gives up on the test or when `ms` have passed (a volcert bug: the budget was too small). */
function budgetSignal(test: AbortSignal, ms: number, what: string): AbortSignal {
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new HarnessBug(`${what} is spent: a wait inside it should have given up first`)),
    ms,
  );
  timer.unref();
  return AbortSignal.any([test, ac.signal]);
}
