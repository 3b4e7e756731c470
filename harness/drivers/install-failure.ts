/**
 * A driver that fails to install is a verdict on that driver, not the end of the run: its
 * evidence (pod states, events, every container's log, the previous log of a restarted container)
 * is written under the run directory before the installer cleans up, the failure is recorded in
 * the run context, and the driver's install cases (IN-01/IN-02) fail with it while the other
 * drivers are tested as usual.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { categoryOf, describeError, type ErrorCategory } from "../core/errors.ts";
import { listEvents, renderEvents } from "../k8s/events.ts";
import type { Kube, V1Pod } from "../k8s/kube.ts";
import { describePods } from "../k8s/render.ts";
import type { DriverFile } from "./schema.ts";
import type { K8sObject } from "./csi-manifests.ts";

export interface InstallFailure {
  driver: string;
  category: ErrorCategory;
  message: string;
  /** Evidence files (absolute paths). */
  evidence: string[];
}

/** The namespaces a driver's objects live in (where its pods are). */
export function driverNamespaces(d: DriverFile, objects: readonly K8sObject[]): string[] {
  const csi = d.spec.csi;
  const ns = new Set<string>();
  for (const w of [csi?.node, csi?.controller]) if (w) ns.add(w.namespace);
  if (d.spec.helm) ns.add(d.spec.helm.namespace);
  for (const o of objects) {
    if (o.kind === "Namespace" && o.metadata?.name) ns.add(o.metadata.name);
    if (o.metadata?.namespace) ns.add(o.metadata.namespace);
  }
  return [...ns].sort();
}

/** The last lines of each not-ready container's log, for the failure message itself. */
async function crashLogs(kube: Kube, ns: string, pods: readonly V1Pod[]): Promise<string[]> {
  const lines: string[] = [];
  for (const p of pods) {
    for (const c of p.status?.containerStatuses ?? []) {
      if (c.ready) continue;
      // A container waiting to restart has no current log: its last run is "--previous". One that
      // has just exited still is the current container (and its predecessor may be gone).
      const order = c.state?.waiting && (c.restartCount ?? 0) > 0 ? [true, false] : [false, true];
      for (const previous of order) {
        const r = await kube.kubectl(
          ["logs", "-n", ns, p.metadata?.name ?? "", "-c", c.name, "--tail=5", ...(previous ? ["--previous"] : [])],
          { nothrow: true },
        );
        if (!r.ok || !r.stdout.trim()) continue;
        const text = r.stdout.trim().split("\n").join(" | ");
        lines.push(`${p.metadata?.name}/${c.name}${previous ? " (previous run)" : ""}: ${text}`);
        break;
      }
    }
  }
  return lines;
}

/**
 * Writes the evidence of a failed install into `dir` and returns the failure record. Never throws:
 * a collector that fails is recorded in place of its evidence.
 */
export async function recordInstallFailure(
  kube: Kube,
  d: DriverFile,
  objects: readonly K8sObject[],
  error: unknown,
  dir: string,
): Promise<InstallFailure> {
  await mkdir(dir, { recursive: true });
  const evidence: string[] = [];
  const save = async (name: string, fn: () => Promise<string>) => {
    const file = join(dir, name);
    const content = await fn().catch((err: unknown) => `(collection failed: ${describeError(err)})`);
    await writeFile(file, content);
    evidence.push(file);
  };
  const logTails: string[] = [];
  for (const ns of driverNamespaces(d, objects)) {
    const pods = await kube.list("Pod", { namespace: ns }).catch(() => [] as V1Pod[]);
    await save(`pods-${ns}.txt`, async () => describePods(pods, await listEvents(kube, ns)));
    await save(`events-${ns}.txt`, async () => renderEvents(await listEvents(kube, ns)));
    for (const p of pods) {
      for (const c of p.status?.containerStatuses ?? []) {
        const name = `${p.metadata?.name}`;
        await save(`log-${ns}-${name}-${c.name}.txt`, async () => {
          const args = ["logs", "-n", ns, name, "-c", c.name, "--tail=500"];
          const now = await kube.kubectl(args, { nothrow: true });
          const before =
            (c.restartCount ?? 0) > 0 ? await kube.kubectl([...args, "--previous"], { nothrow: true }) : null;
          return `${before ? `--- previous run (restart ${c.restartCount}) ---\n${before.stdout || before.stderr}\n--- current run ---\n` : ""}${now.stdout || now.stderr}`;
        });
      }
    }
    logTails.push(...(await crashLogs(kube, ns, pods).catch(() => [])));
  }
  const message = `driver ${d.metadata.name} failed to install: ${describeError(error)}${
    logTails.length
      ? `\nlast log lines of its containers that are not ready:\n${logTails.map((l) => `  ${l}`).join("\n")}`
      : ""
  }`;
  await writeFile(join(dir, "failure.txt"), `${message}\n`);
  evidence.unshift(join(dir, "failure.txt"));
  return { driver: d.metadata.name, category: categoryOf(error), message, evidence };
}
