/**
 * The case's evidence and leak check, gathered through the node seam and the API layer: on
 * failure, what failed and why (whose failure it is), events, objects, logs, the kubelet journal
 * and mount table of every node; after the case, anything it left behind.
 */
import { categoryOf, describeError } from "../core/errors.ts";
import { nodeAccess } from "../core/nodes.ts";
import { attachText } from "../evidence/allure.ts";
import { collectEvidence } from "../evidence/collect.ts";
import { findLeaks, settleVolumes } from "../evidence/leaks.ts";
import type { Kube } from "../k8s/kube.ts";

const WHOSE = {
  driver: "the driver under test",
  infrastructure: "the infrastructure (machine, Docker, cluster), not the driver",
  harness: "volcert itself (a bug to report), not the driver",
  config: "the input given to volcert",
} as const;

/** Attaches every piece of evidence it can; a collector that fails is reported, never thrown. */
export async function caseEvidence(kube: Kube, namespace: string | undefined, failure: unknown): Promise<void> {
  await attachText("failure", `${describeError(failure)}\n\nwhose failure: ${WHOSE[categoryOf(failure)]}`);
  try {
    for (const e of await collectEvidence(kube, namespace, nodeAccess().shell)) {
      await attachText(e.name, e.content, e.type);
    }
  } catch (err) {
    await attachText("evidence collection failed", describeError(err));
  }
}

export interface LeakScope {
  namespace: string;
  podUids: string[];
  dataPaths: string[];
  settleMs: number;
}

export async function caseLeaks(kube: Kube, scope: LeakScope): Promise<string[]> {
  const shell = nodeAccess().shell;
  // Dynamically provisioned volumes are deleted asynchronously once their claims are gone.
  await settleVolumes(kube, shell, scope.namespace, scope.dataPaths, scope.settleMs);
  return findLeaks(kube, shell, {
    namespace: scope.namespace,
    podUids: scope.podUids,
    volumeDirPrefix: scope.namespace,
    loopBackingMarkers: [`/${scope.namespace}-`],
    dataPaths: scope.dataPaths,
  });
}
