/**
 * Events through the API (core/v1), oldest first, as `kubectl get events --sort-by=.lastTimestamp`
 * shows them; newer components fill only eventTime (and series), so that is the fallback.
 */
import type { CoreEvent, Kube } from "./kube.ts";

/** When the event last happened, as precisely as the event says. */
export function eventTime(e: CoreEvent): Date | undefined {
  const t =
    e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return asDate(t);
}

/** client-node 1.4.0 types MicroTime fields (eventTime, series.lastObservedTime) as Date but leaves them strings. */
function asDate(t: unknown): Date | undefined {
  if (t instanceof Date) return t;
  if (typeof t !== "string") return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Oldest first; events with no time at all first, like kubectl's sort. */
export function sortEvents(events: readonly CoreEvent[]): CoreEvent[] {
  const t = (e: CoreEvent) => eventTime(e)?.getTime() ?? 0;
  return [...events].sort((a, b) => t(a) - t(b));
}

/** Events in a namespace, about one object if given, oldest first. */
export async function listEvents(
  kube: Kube,
  namespace: string,
  about?: { kind: string; name: string },
): Promise<CoreEvent[]> {
  const list = await kube.core.listNamespacedEvent({
    namespace,
    ...(about ? { fieldSelector: `involvedObject.kind=${about.kind},involvedObject.name=${about.name}` } : {}),
  });
  return sortEvents(list.items);
}

/** "ProvisioningFailed: ..." */
export function eventLine(e: CoreEvent): string {
  return `${e.reason ?? ""}: ${e.message ?? ""}`;
}

/** The latest event about an object ("Reason: message"), or "" if there is none. */
export async function latestEvent(kube: Kube, ns: string, kind: string, name: string): Promise<string> {
  const last = (await listEvents(kube, ns, { kind, name })).at(-1);
  return last ? eventLine(last).trim() : "";
}

/** One line per event, like `kubectl get events -o wide`: time, type, reason, object, count, message. */
export function renderEvents(events: readonly CoreEvent[]): string {
  return events
    .map((e) =>
      [
        eventTime(e)?.toISOString() ?? "-",
        e.type ?? "-",
        e.reason ?? "-",
        `${e.involvedObject.kind ?? "?"}/${e.involvedObject.name ?? "?"}`,
        `${e.source?.component ?? e.reportingComponent ?? "-"}${e.source?.host ? `@${e.source.host}` : ""}`,
        `x${e.count ?? e.series?.count ?? 1}`,
        (e.message ?? "").replace(/\s*\n\s*/g, " "),
      ].join("  "),
    )
    .join("\n");
}
