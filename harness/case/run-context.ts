/**
 * The run, as seen from a test worker: the context the CLI provided (harness/core/run-context.ts)
 * plus the objects built from it once per worker (the API client, the drivers' files).
 */
import { inject } from "vitest";
import { ConfigError } from "../core/errors.ts";
import { RUN_CONTEXT_KEY, type RunContext, type RunDriver } from "../core/run-context.ts";
import { DriverFileSchema, type DriverFile } from "../drivers/schema.ts";
import { Kube } from "../k8s/kube.ts";

let cached: { ctx: RunContext; kube: Kube } | undefined;

export function runContext(): RunContext {
  return worker().ctx;
}

export function runKube(): Kube {
  return worker().kube;
}

function worker(): { ctx: RunContext; kube: Kube } {
  if (cached) return cached;
  const ctx = inject(RUN_CONTEXT_KEY) as RunContext | undefined;
  if (!ctx) {
    throw new ConfigError("the e2e suites need a real cluster and were started without one", [], {
      fix: "run them through `npm test` or `npm start` (volcert creates the cluster and hands it to the suites)",
    });
  }
  cached = { ctx, kube: new Kube(ctx.cluster.kubeconfig, ctx.kubectl) };
  return cached;
}

/** A driver's definition as the CLI loaded it (validated again: it crossed a process boundary). */
function definitionOf(d: RunDriver): DriverFile {
  return DriverFileSchema.parse(d.definition);
}

/** The drivers this worker registers cases for (validated by the CLI before any cluster work). */
export function selectedDrivers(): DriverFile[] {
  return runContext().drivers.map(definitionOf);
}

/** The test IDs this worker registers for a driver, when its cases are dealt to several clusters (else undefined: all). */
export function driverCaseSubset(name: string): ReadonlySet<string> | undefined {
  const ids = runContext().drivers.find((d) => d.name === name)?.cases;
  return ids ? new Set(ids) : undefined;
}

/** A broken fixture installed for volcert's self-tests, by name, or undefined when this run did not install it (--driver). */
export function installedBrokenFixture(name: string): DriverFile | undefined {
  const d = runContext().brokenFixtures.find((f) => f.name === name);
  return d ? definitionOf(d) : undefined;
}

/** A broken fixture installed for volcert's self-tests, by name. */
export function brokenFixture(name: string): DriverFile {
  const d = runContext().brokenFixtures.find((f) => f.name === name);
  if (!d) throw new ConfigError(`broken fixture ${name} was not installed in this run (self-tests run in test mode)`);
  return definitionOf(d);
}
