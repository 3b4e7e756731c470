import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import type { CoreEvent, V1Pod } from "./kube.ts";
import { describePods, objectsYaml } from "./render.ts";

const pod: V1Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "app",
    namespace: "ns",
    uid: "u1",
    creationTimestamp: new Date("2025-01-01T00:00:00Z"),
    managedFields: [{ manager: "volcert", operation: "Apply" }],
  },
  spec: {
    nodeName: "w1",
    containers: [{ name: "workload", image: "i" }],
    volumes: [{ name: "vol", persistentVolumeClaim: { claimName: "data", readOnly: true } }],
  },
  status: {
    phase: "Pending",
    conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady", message: "not ready" }],
    containerStatuses: [
      {
        name: "workload",
        image: "i",
        imageID: "",
        ready: false,
        restartCount: 2,
        state: { waiting: { reason: "ContainerCreating" } },
      },
    ],
  },
};

describe("evidence rendering", () => {
  test("objects become one YAML List, timestamps as text, managedFields left out", () => {
    const doc = parse(objectsYaml([pod])) as { kind: string; items: V1Pod[] };
    expect(doc.kind).toBe("List");
    expect(doc.items[0]?.metadata?.managedFields).toBeUndefined();
    expect(doc.items[0]?.metadata?.creationTimestamp).toBe("2025-01-01T00:00:00.000Z");
    expect(pod.metadata?.managedFields).toHaveLength(1);
  });

  test("a pod is described with its node, state, containers, volumes and own events", () => {
    const events: CoreEvent[] = [
      {
        metadata: {},
        involvedObject: { kind: "Pod", name: "app" },
        type: "Warning",
        reason: "FailedMount",
        message: "MountVolume.SetUp failed",
        count: 3,
        lastTimestamp: new Date("2025-01-01T00:00:09Z"),
      },
      { metadata: {}, involvedObject: { kind: "Pod", name: "other" }, reason: "Scheduled", message: "x" },
    ];
    expect(describePods([pod], events)).toBe(
      [
        "Pod ns/app (uid u1)",
        "  node: w1  phase: Pending",
        "  condition Ready=False ContainersNotReady: not ready",
        "  container workload: waiting ContainerCreating, ready=false, restarts 2",
        "  volume vol: claim data (read-only)",
        "  event 2025-01-01T00:00:09.000Z Warning FailedMount: MountVolume.SetUp failed (x3)",
      ].join("\n"),
    );
  });
});
