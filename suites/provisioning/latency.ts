/**
 * DP-10's measurement: N claims, each with a pod, created together; the time from each claim's
 * create call to Bound, from each pod's create call to Ready=True and, for a driver that attaches,
 * to its volume's VolumeAttachment attached. Watches on the case namespace's claims and pods (and
 * on VolumeAttachments) are open before the first create, and each end time is the client time
 * the watch delivered the event showing the transition: no sampling interval in the figures. How
 * events become figures is harness/data/watch-latency.ts. Reported as figures, never as a pass
 * threshold; the events themselves go to the run directory beside the figures.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Verdict, waitFor } from "../../harness/core/wait.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { driverAttaches } from "../../harness/case/gate.ts";
import type { CaseContext } from "../../harness/case/runtime.ts";
import { claimManifest } from "../../harness/k8s/claims.ts";
import type { V1PersistentVolumeClaim } from "../../harness/k8s/kube.ts";
import type { CollectionWatch } from "../../harness/k8s/watch.ts";
import { podWithClaim } from "../../harness/case/volumes.ts";
import {
  latencyFigures,
  progress,
  type Created,
  type LatencyFigures,
  type RecordedEvent,
  type WatchedKind,
} from "../../harness/data/watch-latency.ts";
import { claimSize } from "../../harness/case/sizes.ts";

export async function measureLatency(c: CaseContext, n: number): Promise<LatencyFigures> {
  const driver = c.driver.metadata.name;
  const attaches = driverAttaches(c.driver);
  const timeoutMs = driverTimeout(c.driver, "claimProvision") + driverTimeout(c.driver, "podStart");
  const events: RecordedEvent[] = [];
  const record = (kind: WatchedKind) => (e: Omit<RecordedEvent, "kind">) => events.push({ kind, ...e });
  // The server ends a watch after timeoutSeconds; this one outlasts the wait (creates included).
  const bounded = { timeoutSeconds: Math.ceil(timeoutMs / 1000) + 120 };
  const inNs = { ...bounded, namespace: c.ns };
  await using claims = await c.kube.watch("PersistentVolumeClaim", inNs, record("PersistentVolumeClaim"));
  await using pods = await c.kube.watch("Pod", inNs, record("Pod"));
  // VolumeAttachments are cluster-scoped: every one is seen, only those of this case's PVs count.
  await using attachments = attaches
    ? await c.kube.watch("VolumeAttachment", bounded, record("VolumeAttachment"))
    : undefined;
  const watches = [claims, pods, attachments].filter((w): w is CollectionWatch => w !== undefined);

  // API calls, not kubectl: a process spawn per object would be measured as provisioning time.
  const created = await Promise.all(
    Array.from({ length: n }, async (_, i): Promise<Created> => {
      const claim = `claim-${i}`;
      const pod = `pod-${i}`;
      const claimCreatedAt = Date.now();
      await c.kube.core.createNamespacedPersistentVolumeClaim({
        namespace: c.ns,
        body: claimManifest({
          name: claim,
          storageClassName: c.ns,
          size: claimSize(c.driver),
        }) as V1PersistentVolumeClaim,
      });
      const podCreatedAt = Date.now();
      await c.createPod(podWithClaim(pod, claim));
      return { claim, pod, claimCreatedAt, podCreatedAt };
    }),
  );
  // The probe only reads what the watches recorded: its interval decides when the wait notices
  // the end, not the figures.
  await waitFor(
    `${n} claims Bound${attaches ? `, ${n} volumes attached` : ""} and ${n} pods Ready`,
    async () => {
      const failed = watches.find((w) => w.error);
      if (failed?.error) throw new Verdict(failed.error);
      const p = progress(created, events, attaches);
      const relists = watches.reduce((sum, w) => sum + w.relists, 0);
      return { done: p.done, seen: relists ? `${p.seen} (after ${relists} re-list(s))` : p.seen };
    },
    { timeoutMs, intervalMs: 100, blame: "driver" },
  );
  const figures = latencyFigures({
    driver,
    created,
    events,
    relists: watches.reduce((sum, w) => sum + w.relists, 0),
    ...(attaches
      ? {}
      : {
          notAttaching: `${driver} does not attach volumes (no VolumeAttachment; csi.expect.attachRequired is not true)`,
        }),
  });
  await writeFile(join(c.runDir, `dp10-${driver}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  await writeFile(join(c.runDir, `dp10-${driver}-events.jsonl`), events.map((e) => `${JSON.stringify(e)}\n`).join(""));
  return figures;
}
