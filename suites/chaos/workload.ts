/**
 * A one-replica workload (StatefulSet or Deployment) on a case claim, for the chaos cases where a
 * controller must replace a pod lost with its node. Where the replacement may run depends on the
 * driver, and the case states it: node-local storage pins the pod to the node that holds the data
 * (through the PV's node affinity when the driver has topology, through a node selector when it
 * cannot tell the scheduler where its data is), network storage lets it run anywhere.
 */
import { expect } from "vitest";
import { DriverDefect } from "../../harness/core/errors.ts";
import { holdsFor, Verdict, waitFor } from "../../harness/core/wait.ts";
import {
  expectedChecksum,
  newPattern,
  readChecksumScript,
  writeScript,
  type Pattern,
} from "../../harness/data/pattern.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import type { DriverFile } from "../../harness/drivers/schema.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { attachmentsOf } from "../../harness/k8s/attachments.ts";
import { eventLine, listEvents } from "../../harness/k8s/events.ts";
import { describePod, isPodReady, type V1Pod } from "../../harness/k8s/kube.ts";
import type { CaseContext } from "../../harness/case/runtime.ts";
import { caseClaim } from "../../harness/case/claim.ts";
import { waitForProvisioned } from "../../harness/case/dynamic.ts";
import { podWithClaim } from "../../harness/case/volumes.ts";
import { HOLD } from "../../harness/case/limits.ts";

export type Placement = "pinned-by-volume" | "pinned-by-selector" | "anywhere";

export function placementOf(d: DriverFile | undefined): Placement {
  if (!d?.spec.capabilities.singleNodeVolume) return "anywhere";
  return d.spec.capabilities.topology ? "pinned-by-volume" : "pinned-by-selector";
}

/** What the replacement of a pod lost with its node should do, for this driver. */
export function replacementExpectation(d: DriverFile | undefined, away = "is away"): string {
  switch (placementOf(d)) {
    case "anywhere":
      return "network storage: the replacement pod runs on another worker and reads the data written before";
    case "pinned-by-volume":
      return `node-local storage with topology: the PV's node affinity keeps the replacement Pending (not scheduled elsewhere) while the node ${away}; once it is back the replacement runs there and reads the data written before`;
    case "pinned-by-selector":
      return `node-local storage without topology (the driver cannot tell the scheduler where the data is, so the workload pins itself with a node selector): the replacement stays Pending while the node ${away}; once it is back the replacement runs there and reads the data written before`;
  }
}

export interface Workload {
  kind: "StatefulSet" | "Deployment";
  name: string;
  node: string;
  claim: string;
  pod: V1Pod;
  pattern: Pattern;
}

const LABEL = "volcert.io/workload";

/**
 * Starts the workload on the first worker, waits for its pod, and writes a seeded pattern.
 * `tolerationSeconds` shortens how long the pod tolerates an unreachable or NotReady node (the
 * default is 300 s); the eviction path is the same.
 */
export async function startWorkload(
  c: CaseContext,
  kind: Workload["kind"],
  opts: { tolerationSeconds?: number } = {},
): Promise<Workload> {
  const node = c.workers[0] as string;
  const name = "app";
  const claim = await caseClaim(c, node, { name: "data" });
  const placement = placementOf(c.driver);
  const hostname = { key: "kubernetes.io/hostname", operator: "In", values: [node] };
  const pod = podWithClaim(name, claim, {
    ...(placement === "pinned-by-selector" ? { nodeSelector: { "kubernetes.io/hostname": node } } : {}),
    // Where the volume does not pin the pod, prefer the first worker so the data starts there.
    ...(placement === "pinned-by-selector"
      ? {}
      : {
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, preference: { matchExpressions: [hostname] } },
              ],
            },
          },
        }),
  });
  const spec = pod.spec as NonNullable<V1Pod["spec"]>;
  if (opts.tolerationSeconds !== undefined) {
    spec.tolerations = ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"].map((key) => ({
      key,
      operator: "Exists",
      effect: "NoExecute",
      tolerationSeconds: opts.tolerationSeconds,
    }));
  }
  const labels = { [LABEL]: name, "app.kubernetes.io/managed-by": "volcert" };
  const template = { metadata: { labels }, spec };
  const body =
    kind === "StatefulSet"
      ? {
          apiVersion: "apps/v1",
          kind,
          metadata: { name },
          spec: { replicas: 1, serviceName: name, selector: { matchLabels: { [LABEL]: name } }, template },
        }
      : {
          apiVersion: "apps/v1",
          kind,
          metadata: { name },
          spec: { replicas: 1, strategy: { type: "Recreate" }, selector: { matchLabels: { [LABEL]: name } }, template },
        };
  await c.kube.apply(body, c.ns);
  const started = await workloadPod(c, "the workload pod Ready", (p) => isPodReady(p));
  c.trackPod(started);
  if (c.driver.spec.type === "csi") await waitForProvisioned(c, claim);
  const running = started.spec?.nodeName as string;
  expect(running, "the workload starts on the first worker").toBe(node);
  const pattern = newPattern(256 * 1024);
  await recordParameter("seed", pattern.seed);
  const podName = started.metadata?.name as string;
  expect((await c.kube.execInPod(c.ns, podName, writeScript(pattern, "/data/pattern"))).trim()).toBe(
    await expectedChecksum(pattern),
  );
  c.timeline.mark(`${kind} pod ${podName} (uid ${started.metadata?.uid}) wrote seed ${pattern.seed} on ${node}`);
  return { kind, name, node, claim, pod: started, pattern };
}

/** The workload's pods that are not being deleted. */
async function livePods(c: CaseContext): Promise<V1Pod[]> {
  const pods = (await c.kube.core.listNamespacedPod({ namespace: c.ns, labelSelector: `${LABEL}=app` })).items;
  return pods.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Named wait for a live workload pod matching `ok`; on timeout says what the pods looked like. */
export async function workloadPod(
  c: CaseContext,
  what: string,
  ok: (p: V1Pod) => boolean,
  timeoutMs = driverTimeout(c.driver, "podStart"),
): Promise<V1Pod> {
  return waitFor(
    what,
    async () => {
      const all = (await c.kube.core.listNamespacedPod({ namespace: c.ns, labelSelector: `${LABEL}=app` })).items;
      const hit = all.find((p) => !p.metadata?.deletionTimestamp && ok(p));
      const seen = all
        .map(
          (p) =>
            `${p.metadata?.name}${p.metadata?.deletionTimestamp ? " (terminating)" : ""} on ${p.spec?.nodeName ?? "no node"}: ${describePod(p)}`,
        )
        .join("; ");
      return { done: !!hit, seen: seen || "no pod", ...(hit ? { value: hit } : {}) };
    },
    { timeoutMs, intervalMs: 1000, blame: "driver" },
  );
}

/** A replacement (another UID) of the lost pod, not the lost pod itself. */
export const isReplacement = (w: Workload) => (p: V1Pod) => p.metadata?.uid !== w.pod.metadata?.uid;

/**
 * While the node is away: node-local storage keeps the replacement Pending (observed for
 * `holdMs`, it must never be scheduled elsewhere); network storage runs it on another worker.
 */
export async function expectReplacementWhileAway(
  c: CaseContext,
  w: Workload,
  away = "is away",
  holdMs = holdWindow(c.driver, HOLD.replacementUnscheduled),
): Promise<void> {
  const replacement = await workloadPod(c, `a replacement for ${w.pod.metadata?.name} created`, isReplacement(w));
  if (placementOf(c.driver) === "anywhere") {
    const ready = await workloadPod(
      c,
      "the replacement Ready on another worker",
      (p) => isReplacement(w)(p) && isPodReady(p),
    );
    expect(ready.spec?.nodeName, "the replacement runs on another node").not.toBe(w.node);
    c.trackPod(ready);
    await expectWorkloadData(c, ready, w.pattern);
    return;
  }
  c.timeline.mark(
    `replacement ${replacement.metadata?.name} (uid ${replacement.metadata?.uid}) created; it must stay Pending while ${w.node} ${away}`,
  );
  await holdsFor(
    `replacement stays unscheduled while ${w.node} ${away}`,
    async () => {
      const pods = await livePods(c);
      const placed = pods
        .filter((p) => isReplacement(w)(p) && p.spec?.nodeName)
        .map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}`);
      const seen = pods.map(describePod).join("; ");
      return {
        holds: placed.length === 0,
        seen: placed.length
          ? `replacement scheduled while the data is on ${w.node}: ${placed.join(", ")}; ${seen}`
          : seen,
      };
    },
    { durationMs: holdMs, blame: "driver" },
  );
  const pending = (await livePods(c)).find(isReplacement(w));
  const why = pending?.status?.conditions?.find((x) => x.type === "PodScheduled");
  c.timeline.mark(`replacement still Pending: ${why?.reason ?? "?"}: ${why?.message ?? ""}`);
  expect(pending?.status?.phase, `the replacement is Pending while the node holding the data ${away}`).toBe("Pending");
}

/**
 * A RWO volume of an attaching driver whose node is unreachable (no out-of-service taint): the old
 * pod is never confirmed gone, so the attach/detach controller keeps the volume attached there and
 * refuses a second attachment (Multi-Attach). Network storage that attaches cannot follow the pod
 * until the node is back or declared out of service.
 */
export function heldByAttachment(d: DriverFile | undefined): boolean {
  return placementOf(d) === "anywhere" && d?.spec.type === "csi" && d.spec.csi?.expect.attachRequired === true;
}

export const HELD_BY_ATTACHMENT =
  "network storage that attaches: the replacement is scheduled on another worker but is not started, because its RWO volume stays attached to the unreachable node (the attach/detach controller reports Multi-Attach: the old pod is never confirmed gone without the out-of-service taint) and never two attachments at once; once the node is back, the old pod is finalised, the volume moves and the workload reads the data written before";

/**
 * While the node is away, for `heldByAttachment` drivers: the replacement gets a Multi-Attach
 * event, is not Ready for `holdMs`, and the volume's only VolumeAttachment is the lost node's.
 */
export async function expectReplacementHeldByAttachment(
  c: CaseContext,
  w: Workload,
  pv: string,
  holdMs = holdWindow(c.driver, HOLD.replacementUnscheduled),
): Promise<void> {
  const replacement = await workloadPod(
    c,
    `a replacement for ${w.pod.metadata?.name} scheduled`,
    (p) => isReplacement(w)(p) && !!p.spec?.nodeName,
  );
  const name = replacement.metadata?.name as string;
  const refused = await waitFor(
    `a Multi-Attach event for replacement ${name} (its volume is still attached to ${w.node})`,
    async () => {
      const lines = (await listEvents(c.kube, c.ns, { kind: "Pod", name })).map(eventLine);
      const hit = lines.find((l) => /Multi-Attach/.test(l));
      const now = await c.kube.core.readNamespacedPod({ namespace: c.ns, name });
      if (isPodReady(now))
        throw new Verdict(
          new DriverDefect(
            `replacement ${name} Ready on ${now.spec?.nodeName} while its RWO volume is attached to the unreachable ${w.node}`,
          ),
        );
      return { done: !!hit, seen: `${describePod(now)}; ${lines.slice(-3).join(" | ") || "no events"}`, value: hit };
    },
    { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 2000, blame: "driver" },
  );
  c.timeline.mark(`replacement ${name} on ${replacement.spec?.nodeName} refused: ${refused}`);
  await holdsFor(
    `replacement ${name} not started and ${pv} attached only to ${w.node} while ${w.node} is down`,
    async () => {
      const now = await c.kube.core.readNamespacedPod({ namespace: c.ns, name });
      const nodes = (await attachmentsOf(c.kube, pv)).map(
        (v) => `${v.spec.nodeName}${v.status?.attached ? "" : " (not attached)"}`,
      );
      const ok = !isPodReady(now) && nodes.length === 1 && nodes[0] === w.node;
      return { holds: ok, seen: `${describePod(now)}; VolumeAttachments: ${nodes.join(", ") || "none"}` };
    },
    { durationMs: holdMs, blame: "driver" },
  );
}

/** After the node is back: the workload runs again (node-local: on that node) and reads the data. */
export async function expectWorkloadBack(c: CaseContext, w: Workload): Promise<V1Pod> {
  const pod = await workloadPod(
    c,
    "the workload Ready again",
    (p) => isReplacement(w)(p) && isPodReady(p),
    2 * driverTimeout(c.driver, "podStart"),
  );
  if (placementOf(c.driver) !== "anywhere")
    expect(pod.spec?.nodeName, "node-local data: the workload runs where its data is").toBe(w.node);
  c.trackPod(pod);
  c.timeline.mark(`workload pod ${pod.metadata?.name} Ready on ${pod.spec?.nodeName}`);
  await expectWorkloadData(c, pod, w.pattern);
  return pod;
}

async function expectWorkloadData(c: CaseContext, pod: V1Pod, p: Pattern): Promise<void> {
  const name = pod.metadata?.name as string;
  expect(
    (await c.kube.execInPod(c.ns, name, readChecksumScript("/data/pattern"))).trim(),
    `checksum read by ${name} on ${pod.spec?.nodeName}`,
  ).toBe(await expectedChecksum(p));
  c.timeline.mark(`pod ${name} on ${pod.spec?.nodeName} read the data back intact`);
}

/** Named wait until the pod with this UID is gone from the API (finalised, not just terminating). */
export async function waitPodUidGone(
  c: CaseContext,
  pod: V1Pod,
  why: string,
  timeoutMs = driverTimeout(c.driver, "podDelete"),
): Promise<void> {
  const uid = pod.metadata?.uid;
  await waitFor(
    `pod ${pod.metadata?.name} (uid ${uid}) gone: ${why}`,
    async () => {
      const same = (await c.kube.core.listNamespacedPod({ namespace: c.ns })).items.find(
        (p) => p.metadata?.uid === uid,
      );
      return {
        done: !same,
        seen: same
          ? `${same.metadata?.deletionTimestamp ? "terminating" : "not deleted"}: ${describePod(same)}`
          : "gone",
      };
    },
    { timeoutMs, intervalMs: 1000, blame: "driver" },
  );
  c.timeline.mark(`pod ${pod.metadata?.name} (uid ${uid}) gone from the API`);
}
