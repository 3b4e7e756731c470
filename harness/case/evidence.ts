/**
 * The case's evidence and leak check, gathered through the node seam and the API layer: on
 * failure, what failed and why (whose failure it is), events, objects, logs, the kubelet journal
 * and mount table of every node; after the case, passed or failed, anything it left behind.
 */
import { effectiveSignal } from "../core/abort.ts";
import { categoryOf, describeError } from "../core/errors.ts";
import { nodeAccess } from "../core/nodes.ts";
import { attachText } from "../evidence/allure.ts";
import { collectEvidence } from "../evidence/collect.ts";
import type { LeakReport, ProbeFailure } from "../evidence/leak-report.ts";
import { caseObjects, nodeMarks, settleAndCheck, type NodeMarks, type VolumeRef } from "../evidence/leaks.ts";
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

/**
 * The case's leak check in three steps: the nodes' cordons and taints when the case begins, the
 * case's pods and volumes just before disposal deletes them, and the check after disposal. The
 * first two never throw: what they could not read makes the check incomplete, so it fails.
 */
export interface CaseLeakCheck {
  baseline(): Promise<void>;
  recordScope(namespace: string): Promise<void>;
  run(scope: {
    namespace: string;
    podUids: Iterable<string>;
    dataPaths: Iterable<string>;
    settleMs: number;
  }): Promise<LeakReport>;
}

export function caseLeakCheck(kube: Kube): CaseLeakCheck {
  let nodesBefore: Map<string, NodeMarks> | undefined;
  const failures: ProbeFailure[] = [];
  const podUids = new Set<string>();
  const volumes: VolumeRef[] = [];
  const failed = (probe: string) => (err: unknown) => {
    effectiveSignal()?.throwIfAborted();
    failures.push({ probe, error: err instanceof Error ? err.message.split("\n")[0]! : String(err) });
  };
  return {
    async baseline() {
      nodesBefore = await nodeMarks(kube).catch((err: unknown) => {
        failed("node cordons and taints when the case began")(err);
        return undefined;
      });
    },
    async recordScope(namespace) {
      await caseObjects(kube, namespace).then(
        (found) => {
          for (const uid of found.podUids) podUids.add(uid);
          volumes.push(...found.volumes);
        },
        failed(`pods and volumes of ${namespace} before disposal`),
      );
    },
    async run(scope) {
      // Dynamically provisioned volumes are deleted, and everything unmounted, asynchronously.
      return settleAndCheck(
        kube,
        nodeAccess(),
        {
          namespace: scope.namespace,
          podUids: [...new Set([...scope.podUids, ...podUids])],
          volumes,
          dataPaths: [...scope.dataPaths],
          ...(nodesBefore ? { nodesBefore } : {}),
          scopeFailures: failures,
        },
        scope.settleMs,
      );
    },
  };
}
