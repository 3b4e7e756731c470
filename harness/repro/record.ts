/**
 * Repro mode: a case run with the keep policy (`volcert repro`) keeps its namespace, pods and volumes after
 * it ends (faults are still healed) and writes a record of where they are, so the CLI can print
 * the exact commands to inspect the volume on its node.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kube } from "../k8s/kube.ts";

export interface ReproRecord {
  id: string;
  title: string;
  driver?: string | undefined;
  namespace: string;
  outcome: "passed" | "failed";
  error?: string | undefined;
  pods: { name: string; node: string; uid: string; phase: string }[];
  claims: { name: string; volume: string }[];
}

export async function writeReproRecord(
  kube: Kube,
  runDir: string,
  base: Omit<ReproRecord, "pods" | "claims">,
): Promise<string> {
  const pods = (await kube.core.listNamespacedPod({ namespace: base.namespace })).items.map((p) => ({
    name: p.metadata?.name ?? "",
    node: p.spec?.nodeName ?? "",
    uid: p.metadata?.uid ?? "",
    phase: p.status?.phase ?? "",
  }));
  const claims = (await kube.core.listNamespacedPersistentVolumeClaim({ namespace: base.namespace })).items.map(
    (c) => ({
      name: c.metadata?.name ?? "",
      volume: c.spec?.volumeName ?? "",
    }),
  );
  const file = join(runDir, `repro-${base.namespace}.json`);
  writeFileSync(file, `${JSON.stringify({ ...base, pods, claims }, null, 2)}\n`);
  return file;
}
