/**
 * Latency figures from recorded watch events (DP-10), as a pure function: a run and a unit test
 * get the same figures from the same events. For each claim, the time from just before its create
 * call to the arrival of the first event showing phase Bound; for each pod, to the first showing
 * condition Ready=True; for a driver that attaches, from just before the pod's create call to the
 * first event showing the VolumeAttachment of its claim's PV with status.attached true. All of
 * these are client times, so they need no clock agreement with the cluster. The objects' own
 * timestamps (creationTimestamp, the Ready condition's lastTransitionTime) are kept beside them as
 * a cross-check; they have 1 s resolution.
 */
import type { V1Pod } from "../k8s/kube.ts";
import { describePod } from "../k8s/kube.ts";
import type { ReceivedEvent } from "../k8s/watch.ts";
import { distribution, type Distribution } from "./stats.ts";

export const METHOD =
  "watch events, client receipt time (start: client time just before each create call); objects' own timestamps (1 s resolution) alongside";

export type WatchedKind = "PersistentVolumeClaim" | "Pod" | "VolumeAttachment";

/** One event as the watch delivered it, and from which watch. */
export interface RecordedEvent extends ReceivedEvent {
  kind: WatchedKind;
}

/** A claim and its pod, with the client times just before their create calls (ms since the epoch). */
export interface Created {
  claim: string;
  pod: string;
  claimCreatedAt: number;
  podCreatedAt: number;
}

export interface Timing {
  /** The claim or pod; for an attachment, the claim's PV. */
  name: string;
  /** Client time just before the create call (for an attachment, the pod's). */
  startedAt: number;
  /** Client time the event showing the transition arrived. */
  seenAt?: number;
  /** seenAt − startedAt. */
  ms?: number;
  /** "re-list": first seen in a list after the watch dropped, so `ms` is an upper bound. */
  seenBy?: "watch" | "re-list";
  /** The object's metadata.creationTimestamp (1 s resolution). */
  creationTimestamp?: string;
}

export interface ClaimTiming extends Timing {
  volumeName?: string;
}

export interface PodTiming extends Timing {
  /** The Ready condition's lastTransitionTime when it was first seen True (1 s resolution). */
  readyTransitionTime?: string;
  /** readyTransitionTime − creationTimestamp: the same span by the objects' own timestamps. */
  ownMs?: number;
}

export interface AttachTiming extends Timing {
  claim: string;
  volumeAttachment?: string;
}

export interface Transitions {
  claims: ClaimTiming[];
  pods: PodTiming[];
  /** Undefined for a driver that does not attach. */
  attachments?: AttachTiming[];
}

interface Wire {
  metadata?: { name?: string; creationTimestamp?: string };
  spec?: { volumeName?: string; source?: { persistentVolumeName?: string } };
  status?: {
    phase?: string;
    attached?: boolean;
    conditions?: { type?: string; status?: string; lastTransitionTime?: string }[];
  };
}

export function transitions(
  created: readonly Created[],
  events: readonly RecordedEvent[],
  attaches: boolean,
): Transitions {
  const claims = new Map<string, ClaimTiming>(
    created.map((c) => [c.claim, { name: c.claim, startedAt: c.claimCreatedAt }]),
  );
  const pods = new Map<string, PodTiming>(created.map((c) => [c.pod, { name: c.pod, startedAt: c.podCreatedAt }]));
  const attachmentEvents: RecordedEvent[] = [];
  for (const e of events) {
    if (e.type === "DELETED") continue;
    const o = e.object as Wire;
    const name = o.metadata?.name ?? "";
    if (e.kind === "VolumeAttachment") {
      attachmentEvents.push(e);
    } else if (e.kind === "PersistentVolumeClaim") {
      const t = claims.get(name);
      if (!t) continue;
      t.creationTimestamp ??= o.metadata?.creationTimestamp;
      if (o.spec?.volumeName) t.volumeName ??= o.spec.volumeName;
      if (t.seenAt === undefined && o.status?.phase === "Bound") seen(t, e);
    } else if (e.kind === "Pod") {
      const t = pods.get(name);
      if (!t) continue;
      t.creationTimestamp ??= o.metadata?.creationTimestamp;
      const ready = o.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
      if (t.seenAt !== undefined || !ready) continue;
      seen(t, e);
      t.readyTransitionTime = ready.lastTransitionTime;
      if (ready.lastTransitionTime && t.creationTimestamp)
        t.ownMs = Date.parse(ready.lastTransitionTime) - Date.parse(t.creationTimestamp);
    }
  }
  const out: Transitions = { claims: [...claims.values()].map(tidy), pods: [...pods.values()].map(tidy) };
  if (!attaches) return out;
  // Keyed by PV name: a VolumeAttachment names the PV, not the claim.
  const byPv = new Map<string, AttachTiming>();
  for (const c of created) {
    const pv = claims.get(c.claim)?.volumeName;
    if (pv) byPv.set(pv, { name: pv, claim: c.claim, startedAt: c.podCreatedAt });
  }
  for (const e of attachmentEvents) {
    const o = e.object as Wire;
    const t = byPv.get(o.spec?.source?.persistentVolumeName ?? "");
    if (!t || t.seenAt !== undefined) continue;
    t.volumeAttachment = o.metadata?.name;
    t.creationTimestamp = o.metadata?.creationTimestamp;
    if (o.status?.attached === true) seen(t, e);
  }
  out.attachments = created.map((c) =>
    tidy(byPv.get(claims.get(c.claim)?.volumeName ?? "") ?? { name: "", claim: c.claim, startedAt: c.podCreatedAt }),
  );
  return out;
}

function seen(t: Timing, e: RecordedEvent): void {
  t.seenAt = e.at;
  t.ms = e.at - t.startedAt;
  t.seenBy = e.type === "LISTED" ? "re-list" : "watch";
}

/** Without undefined fields, so the JSON file and a comparison with it agree. */
function tidy<T extends object>(t: T): T {
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as T;
}

export interface LatencyFigures {
  driver: string;
  claims: number;
  method: string;
  /** Watch drops answered by a re-list; a sample first seen in a re-list is an upper bound (seenBy). */
  relists: number;
  /** Claim created → Bound (ms). */
  bound: Distribution;
  /** Pod created → Ready=True (ms). */
  ready: Distribution;
  /** Pod created → its claim's PV attached (ms), or why the figure does not apply to this driver. */
  attached: Distribution | { notApplicable: string };
  /** Pod Ready by the pods' own timestamps (Ready lastTransitionTime − creationTimestamp), whole seconds. */
  readyByOwnTimestamps: Distribution;
  objects: Transitions;
}

export function latencyFigures(run: {
  driver: string;
  created: readonly Created[];
  events: readonly RecordedEvent[];
  /** Undefined when the driver attaches; else why the attach figure does not apply. */
  notAttaching?: string;
  relists: number;
}): LatencyFigures {
  const t = transitions(run.created, run.events, run.notAttaching === undefined);
  const spans = (ts: readonly Timing[]) => distribution(ts.flatMap((x) => (x.ms === undefined ? [] : [x.ms])));
  return {
    driver: run.driver,
    claims: run.created.length,
    method: METHOD,
    relists: run.relists,
    bound: spans(t.claims),
    ready: spans(t.pods),
    attached: t.attachments ? spans(t.attachments) : { notApplicable: run.notAttaching ?? "" },
    readyByOwnTimestamps: distribution(t.pods.flatMap((p) => (p.ownMs === undefined ? [] : [p.ownMs]))),
    objects: t,
  };
}

/**
 * Where the measured objects stand, for a wait's "last seen": counts, the first few objects not
 * there yet with their last state, and the last event that arrived.
 */
export function progress(
  created: readonly Created[],
  events: readonly RecordedEvent[],
  attaches: boolean,
): { done: boolean; seen: string } {
  const t = transitions(created, events, attaches);
  const n = created.length;
  const waiting = <T extends Timing>(ts: readonly T[]) => ts.filter((x) => x.seenAt === undefined);
  const claims = waiting(t.claims);
  const pods = waiting(t.pods);
  const attachments = t.attachments ? waiting(t.attachments) : [];
  const latest = new Map<string, RecordedEvent>();
  for (const e of events) latest.set(`${e.kind}/${e.object.metadata?.name ?? ""}`, e);
  const state = (kind: WatchedKind, name: string) => {
    const e = latest.get(`${kind}/${name}`);
    if (!e) return "no event yet";
    if (e.type === "DELETED") return "deleted";
    const o = e.object as Wire;
    return kind === "Pod" ? describePod(e.object as V1Pod) : `phase ${o.status?.phase ?? "unknown"}`;
  };
  const counts = [
    `${n - claims.length}/${n} claims Bound`,
    `${n - pods.length}/${n} pods Ready`,
    ...(t.attachments ? [`${n - attachments.length}/${n} volumes attached`] : []),
  ];
  const behind = [
    ...claims.map((c) => `claim ${c.name}: ${state("PersistentVolumeClaim", c.name)}`),
    ...pods.map((p) => `pod ${p.name}: ${state("Pod", p.name)}`),
    ...attachments.map((a) => `attachment of ${a.claim}: ${a.name ? `PV ${a.name} not attached` : "claim not bound"}`),
  ];
  const last = events.at(-1);
  const parts = [counts.join(", ")];
  if (behind.length)
    parts.push(`${behind.slice(0, 3).join("; ")}${behind.length > 3 ? ` (+${behind.length - 3})` : ""}`);
  parts.push(
    last
      ? `last event: ${last.type} ${last.kind} ${last.object.metadata?.name ?? "?"} at ${new Date(last.at).toISOString().slice(11)}`
      : "no event yet",
  );
  return { done: behind.length === 0, seen: parts.join("; ") };
}
