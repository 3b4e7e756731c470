import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { latencyFigures, METHOD, progress, transitions, type Created, type RecordedEvent } from "./watch-latency.ts";

// A DP-10 run on csi-hostpath (kind, Kubernetes v1.34.10): every event its claim and pod watches
// delivered, with receipt times, and the figures the run wrote. See fixtures/recorded/README.md.
const recorded = (name: string) => readFileSync(new URL(`../../fixtures/recorded/${name}`, import.meta.url), "utf8");
const EVENTS: RecordedEvent[] = recorded("dp10-csi-hostpath-events.jsonl")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as RecordedEvent);
const FIGURES = JSON.parse(recorded("dp10-csi-hostpath.json")) as ReturnType<typeof latencyFigures>;
const CREATED: Created[] = FIGURES.objects.claims.map((c, i) => ({
  claim: c.name,
  pod: FIGURES.objects.pods[i]!.name,
  claimCreatedAt: c.startedAt,
  podCreatedAt: FIGURES.objects.pods[i]!.startedAt,
}));
const NOT_ATTACHING =
  "csi-hostpath does not attach volumes (no VolumeAttachment; csi.expect.attachRequired is not true)";

const indexOf = (kind: string, name: string, resourceVersion: string) =>
  EVENTS.findIndex(
    (e) => e.kind === kind && e.object.metadata?.name === name && e.object.metadata.resourceVersion === resourceVersion,
  );

describe("latency from recorded watch events", () => {
  test("replaying the recorded events gives the figures the run reported", () => {
    const figures = latencyFigures({
      driver: "csi-hostpath",
      created: CREATED,
      events: EVENTS,
      notAttaching: NOT_ATTACHING,
      relists: 0,
    });
    expect(figures).toEqual(FIGURES);
    expect(figures.method).toBe(METHOD);
  });

  test("a claim ends at the first event showing Bound; a pod at the first showing Ready=True, not at an earlier Ready=False", () => {
    const t = transitions(CREATED, EVENTS, false);
    const claim3 = t.claims.find((c) => c.name === "claim-3");
    // Four MODIFIED events (annotations, the selected node) came before the one with phase Bound.
    expect(EVENTS[indexOf("PersistentVolumeClaim", "claim-3", "641")]?.at).toBe(1796206012570);
    expect(claim3).toEqual({
      name: "claim-3",
      startedAt: 1796206012333,
      seenAt: 1796206012570,
      ms: 237,
      seenBy: "watch",
      creationTimestamp: "2026-12-02T10:06:52Z",
      volumeName: "pvc-53d23f8a-42bf-4a9b-9aca-6ddfae8aae21",
    });
    // rv 685 carried Ready=False (ContainersNotReady); rv 723 the first Ready=True.
    expect(EVENTS[indexOf("Pod", "pod-3", "685")]?.object).toMatchObject({
      status: { conditions: expect.arrayContaining([expect.objectContaining({ type: "Ready", status: "False" })]) },
    });
    expect(t.pods.find((p) => p.name === "pod-3")).toMatchObject({
      seenAt: EVENTS[indexOf("Pod", "pod-3", "723")]!.at,
      seenBy: "watch",
      creationTimestamp: "2026-12-02T10:06:52Z",
      readyTransitionTime: "2026-12-02T10:06:58Z",
      ownMs: 6000,
    });
    expect(t.attachments).toBeUndefined();
  });

  test("phase Running without Ready=True is not Ready", () => {
    const at = indexOf("Pod", "pod-3", "723");
    const ready = EVENTS[at]!;
    const status = ready.object.status as { conditions: { type: string; status: string }[] };
    const runningNotReady: RecordedEvent = {
      ...ready,
      object: {
        ...ready.object,
        status: {
          ...status,
          conditions: status.conditions.map((c) => (c.type === "Ready" ? { ...c, status: "False" } : c)),
        },
      },
    };
    const events = [...EVENTS.slice(0, at), runningNotReady];
    const pod3 = transitions(CREATED, events, false).pods.find((p) => p.name === "pod-3");
    expect(pod3?.seenAt).toBeUndefined();
    expect(progress(CREATED, events, false).done).toBe(false);
  });

  test("a transition first seen in a re-list is marked as such (its time is an upper bound)", () => {
    const events = EVENTS.map((e, i) =>
      i === indexOf("PersistentVolumeClaim", "claim-3", "641") ? { ...e, type: "LISTED" as const } : e,
    );
    expect(transitions(CREATED, events, false).claims.find((c) => c.name === "claim-3")?.seenBy).toBe("re-list");
  });

  test("progress says how many are done, what the rest last showed, and the last event", () => {
    const beforeReady = EVENTS.slice(0, indexOf("Pod", "pod-3", "723"));
    const p = progress(CREATED, beforeReady, false);
    expect(p.done).toBe(false);
    expect(p.seen).toMatch(
      /^6\/6 claims Bound, 0\/6 pods Ready; pod pod-0: phase Pending; Ready=ContainersNotReady: containers with unready status: \[workload\]; .*\(\+3\); last event: MODIFIED Pod pod-4 at 10:06:53\.678Z$/,
    );
    expect(progress(CREATED, [], false).seen).toBe(
      "0/6 claims Bound, 0/6 pods Ready; claim claim-0: no event yet; claim claim-1: no event yet; claim claim-2: no event yet (+9); no event yet",
    );
    expect(progress(CREATED, EVENTS, false)).toEqual({
      done: true,
      seen: "6/6 claims Bound, 6/6 pods Ready; last event: MODIFIED Pod pod-4 at 10:06:58.691Z",
    });
  });

  // csi-hostpath does not attach, so these VolumeAttachment events are not recorded: they are
  // shaped as the API server sends storage.k8s.io/v1 VolumeAttachments (as the external-attacher
  // updates them), for the PVs of the recorded claims.
  const attachment = (pv: string, at: number, type: "ADDED" | "MODIFIED", attached: boolean): RecordedEvent => ({
    kind: "VolumeAttachment",
    type,
    at,
    object: {
      kind: "VolumeAttachment",
      apiVersion: "storage.k8s.io/v1",
      metadata: {
        name: `csi-${pv.slice(4)}`,
        uid: "0d7a2c1e-7f0b-4c43-9a57-1d2f4f1e9b10",
        resourceVersion: String(at % 100000),
        creationTimestamp: "2026-12-02T10:06:53Z",
      },
      spec: {
        attacher: "hostpath.csi.volcert.io",
        source: { persistentVolumeName: pv },
        nodeName: "volcert-h1-worker",
      },
      status: { attached },
    },
  });

  test("for a driver that attaches: pod created → its claim's PV attached, matched by PV name", () => {
    const pvs = FIGURES.objects.claims.map((c) => c.volumeName!);
    const vas = pvs.flatMap((pv, i) => [
      attachment(pv, 1796206013600 + i, "ADDED", false),
      attachment(pv, 1796206014000 + 10 * i, "MODIFIED", true),
    ]);
    const foreign = attachment("pvc-00000000-0000-0000-0000-000000000000", 1796206013000, "MODIFIED", true);
    const events = [...EVENTS, foreign, ...vas];
    const figures = latencyFigures({ driver: "d", created: CREATED, events, relists: 0 });
    const t = figures.objects.attachments!;
    expect(t.map((a) => [a.claim, a.name, a.volumeAttachment, a.seenAt])).toEqual(
      CREATED.map((c, i) => [c.claim, pvs[i], `csi-${pvs[i]!.slice(4)}`, 1796206014000 + 10 * i]),
    );
    expect(t[0]).toMatchObject({ startedAt: CREATED[0]!.podCreatedAt, ms: 1796206014000 - CREATED[0]!.podCreatedAt });
    expect(figures.attached).toMatchObject({ samples: expect.any(Array) });
    expect((figures.attached as { samples: number[] }).samples).toHaveLength(6);

    const half = [...EVENTS, ...vas.slice(0, 7)];
    expect(progress(CREATED, half, true).seen).toMatch(
      /^6\/6 claims Bound, 6\/6 pods Ready, 3\/6 volumes attached; attachment of claim-3: PV pvc-53d23f8a-42bf-4a9b-9aca-6ddfae8aae21 not attached; .*; last event: ADDED VolumeAttachment csi-53d23f8a-\S+ at 10:06:53\.603Z$/,
    );
  });

  test("for a driver that does not attach, the figure says it does not apply", () => {
    const figures = latencyFigures({
      driver: "d",
      created: CREATED,
      events: EVENTS,
      notAttaching: "d does not attach",
      relists: 0,
    });
    expect(figures.attached).toEqual({ notApplicable: "d does not attach" });
    expect(figures.objects.attachments).toBeUndefined();
  });
});
