/**
 * API objects as text for evidence: YAML like `kubectl get -o yaml`, and a compact description
 * of pods (the useful part of `kubectl describe pod`: where, phase, conditions, containers,
 * volumes, events), so evidence needs no kubectl.
 */
import { stringify } from "yaml";
import { eventLine, eventTime } from "./events.ts";
import type { CoreEvent, Manifest, V1Pod } from "./kube.ts";

/** The objects as one YAML List, without managedFields (kubectl hides them too). */
export function objectsYaml(objects: readonly Manifest[]): string {
  const items = objects.map((o) => {
    const plain = JSON.parse(JSON.stringify(o)) as { metadata?: { managedFields?: unknown } };
    delete plain.metadata?.managedFields;
    return plain;
  });
  return stringify({ apiVersion: "v1", kind: "List", items });
}

/** One block per pod; `events` are the namespace's events (those about each pod are picked). */
export function describePods(pods: readonly V1Pod[], events: readonly CoreEvent[]): string {
  return pods.map((p) => describeOne(p, events)).join("\n\n");
}

function describeOne(p: V1Pod, events: readonly CoreEvent[]): string {
  const name = p.metadata?.name ?? "?";
  const lines = [
    `Pod ${p.metadata?.namespace ?? "?"}/${name} (uid ${p.metadata?.uid ?? "?"})`,
    `  node: ${p.spec?.nodeName ?? "(not scheduled)"}  phase: ${p.status?.phase ?? "?"}${p.status?.reason ? ` (${p.status.reason}: ${p.status.message ?? ""})` : ""}`,
  ];
  if (p.metadata?.deletionTimestamp) lines.push(`  terminating since ${p.metadata.deletionTimestamp.toISOString()}`);
  for (const c of p.status?.conditions ?? [])
    lines.push(
      `  condition ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`,
    );
  for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const s = cs.state;
    const state = s?.running
      ? "running"
      : s?.waiting
        ? `waiting ${s.waiting.reason ?? ""}${s.waiting.message ? `: ${s.waiting.message}` : ""}`
        : s?.terminated
          ? `terminated ${s.terminated.reason ?? ""} (exit ${s.terminated.exitCode})`
          : "unknown";
    const last = cs.lastState?.terminated;
    lines.push(
      `  container ${cs.name}: ${state}, ready=${cs.ready}, restarts ${cs.restartCount}` +
        (last ? `; last terminated ${last.reason ?? ""} (exit ${last.exitCode})` : ""),
    );
  }
  for (const v of p.spec?.volumes ?? []) {
    const source = v.persistentVolumeClaim
      ? `claim ${v.persistentVolumeClaim.claimName}${v.persistentVolumeClaim.readOnly ? " (read-only)" : ""}`
      : v.ephemeral
        ? "ephemeral claim"
        : v.emptyDir
          ? `emptyDir${v.emptyDir.medium ? ` ${v.emptyDir.medium}` : ""}`
          : (Object.keys(v).find((k) => k !== "name") ?? "?");
    lines.push(`  volume ${v.name}: ${source}`);
  }
  const mine = events.filter((e) => e.involvedObject.kind === "Pod" && e.involvedObject.name === name);
  for (const e of mine)
    lines.push(
      `  event ${eventTime(e)?.toISOString() ?? "-"} ${e.type ?? ""} ${eventLine(e)}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ""}`,
    );
  if (!mine.length) lines.push("  no events");
  return lines.join("\n");
}
