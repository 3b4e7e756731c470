import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { BINDING_GRACE_MS, judgeBinding, judgePodBinding } from "./binding-stall.ts";
import type { Model } from "./kube.ts";

// Recorded: the evidence of NF-08 [csi-netstore] in the main job of 2026-12-03 (volcert-run-b3f5-nf2),
// which volcert blamed on the driver: the case namespace's objects and the cluster's PVs, as its
// evidence collection wrote them at the failure (fixtures/recorded/README.md).
const recorded = (f: string) =>
  (parse(readFileSync(new URL(`../../fixtures/recorded/${f}`, import.meta.url), "utf8")) as { items: unknown[] }).items;
const ns = recorded("nf08-scheduler-stall-namespace.yaml") as { kind: string }[];
const pvs = recorded("nf08-scheduler-stall-cluster.yaml").filter(
  (o) => (o as { kind: string }).kind === "PersistentVolume",
) as Model<"PersistentVolume">[];
const pod = ns.find((o) => o.kind === "Pod") as Model<"Pod">;
const claim = ns.find((o) => o.kind === "PersistentVolumeClaim") as Model<"PersistentVolumeClaim">;
// The PV went Bound at 14:34:18; the wait ended 180 s after the pod was made (14:34:16).
const atTimeout = new Date("2026-12-03T14:37:16Z").getTime();
const boundAt = new Date("2026-12-03T14:34:18Z").getTime();

const clone = <T>(o: T): T => structuredClone(o);

describe("a pod the scheduler never retried after its claim bound (recorded NF-08)", () => {
  test("is the control plane's, and says why", () => {
    const stall = judgePodBinding(pod, [claim], pvs, atTimeout);
    expect(stall?.blame).toBe("infrastructure");
    expect(stall?.seen).toContain("Bound for 178 s");
    expect(stall?.seen).toContain("claim (volume pvc-9b232c31-5861-45b2-b360-f84a009d8f18)");
    expect(stall?.seen).toContain("kube-scheduler has not tried the pod again");
  });

  test("is nobody's yet within the grace period after the claim bound", () => {
    expect(judgePodBinding(pod, [claim], pvs, boundAt + BINDING_GRACE_MS - 1000)).toBeUndefined();
  });

  test("a scheduled pod, or one the scheduler rejects for another reason, is not explained by its claims", () => {
    const placed = clone(pod);
    placed.spec = {
      ...placed.spec,
      containers: placed.spec?.containers ?? [],
      nodeName: "volcert-run-b3f5-nf2-worker",
    };
    expect(judgePodBinding(placed, [claim], pvs, atTimeout)).toBeUndefined();
    const other = clone(pod);
    for (const c of other.status?.conditions ?? [])
      if (c.type === "PodScheduled") c.message = "0/3 nodes are available: 1 node(s) had volume node affinity conflict";
    expect(judgePodBinding(other, [claim], pvs, atTimeout)).toBeUndefined();
  });
});

describe("a Pending claim", () => {
  // The same objects one step earlier: the provisioner made the PV (claimRef with the claim's
  // UID), the PV controller has not bound the claim.
  const pending = clone(claim);
  pending.status = { phase: "Pending" };
  delete pending.spec?.volumeName;
  const made = pvs.map((p) => ({ ...clone(p), status: { phase: "Available" } }));

  test("whose volume exists and fits it is the PV controller's after the grace period", () => {
    const stall = judgeBinding(pending, made, atTimeout);
    expect(stall?.blame).toBe("infrastructure");
    expect(stall?.seen).toContain("the PV controller (kube-controller-manager) has not bound them");
    expect(judgePodBinding(pod, [pending], made, atTimeout)?.blame).toBe("infrastructure");
  });

  test("is still the driver's within the grace period", () => {
    expect(judgeBinding(pending, made, boundAt + 5000)?.blame).toBe("driver");
  });

  test("with no volume made for it is the driver's (nothing to say), and its pod's wait too", () => {
    expect(judgeBinding(pending, [], atTimeout)).toBeUndefined();
    const stall = judgePodBinding(pod, [pending], [], atTimeout);
    expect(stall?.blame).toBe("driver");
    expect(stall?.seen).toContain("claim claim Pending with no volume made for it");
  });

  test("whose volume can never satisfy it is the driver's, with every reason", () => {
    const bad = made.map((p) => {
      const v = clone(p);
      v.spec = { ...v.spec, capacity: { storage: "100Mi" }, volumeMode: "Block", accessModes: ["ReadOnlyMany"] };
      return v;
    });
    const stall = judgeBinding(pending, bad, atTimeout);
    expect(stall?.blame).toBe("driver");
    expect(stall?.seen).toContain("capacity 100Mi is less than the 300Mi requested");
    expect(stall?.seen).toContain("volumeMode Block, the claim asks for Filesystem");
    expect(stall?.seen).toContain("access modes ReadOnlyMany lack ReadWriteOnce");
  });

  test("a volume naming another claim of the same name (another UID) is not this claim's", () => {
    const other = made.map((p) => {
      const v = clone(p);
      if (v.spec?.claimRef) v.spec.claimRef.uid = "00000000-0000-0000-0000-000000000000";
      return v;
    });
    expect(judgeBinding(pending, other, atTimeout)).toBeUndefined();
  });
});
