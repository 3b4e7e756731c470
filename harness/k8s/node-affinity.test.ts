import { describe, expect, test } from "vitest";
import type { V1Node, V1PersistentVolume } from "./kube.ts";
import { describeNodeAffinity, nodesAdmitted } from "./node-affinity.ts";

// Recorded from a main job's cluster (volcert-run-21d9, 2026-12-03): a csi-hostpath PV (metadata
// and node affinity as the external-provisioner wrote them) and the nodes' labels.
const pv: V1PersistentVolume = {
  metadata: { name: "pvc-22e026b7-742c-4069-ac1d-690dae9e0b41" },
  spec: {
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: "topology.hostpath.csi.volcert.io/node", operator: "In", values: ["volcert-run-21d9-worker"] },
            ],
          },
        ],
      },
    },
  },
};
const node = (name: string, index: string, cp = false): V1Node => ({
  metadata: {
    name,
    labels: {
      "beta.kubernetes.io/arch": "amd64",
      "beta.kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      ...(cp
        ? { "node-role.kubernetes.io/control-plane": "", "node.kubernetes.io/exclude-from-external-load-balancers": "" }
        : {}),
      "topology.hostpath.csi.volcert.io/node": name,
      "volcert.io/node-index": index,
    },
  },
});
const nodes = [
  node("volcert-run-21d9-control-plane", "0", true),
  node("volcert-run-21d9-worker", "1"),
  node("volcert-run-21d9-worker2", "2"),
];
const withTerms = (terms: unknown): V1PersistentVolume => ({
  spec: { nodeAffinity: { required: { nodeSelectorTerms: terms as never } } },
});

describe("nodes a PV's node affinity admits", () => {
  test("a csi-hostpath PV (recorded) admits the node holding its directory only", () => {
    expect(nodesAdmitted(pv, nodes)).toEqual(["volcert-run-21d9-worker"]);
    expect(describeNodeAffinity(pv)).toBe("topology.hostpath.csi.volcert.io/node In volcert-run-21d9-worker");
  });

  test("no affinity admits every node; an empty term none", () => {
    expect(nodesAdmitted({ spec: {} }, nodes)).toHaveLength(3);
    expect(describeNodeAffinity({ spec: {} })).toBe("none");
    expect(nodesAdmitted(withTerms([{}]), nodes)).toEqual([]);
  });

  test("terms are ORed, requirements ANDed; NotIn, Exists, DoesNotExist, Gt and matchFields", () => {
    const idx = (op: string, values?: string[]) => ({ key: "volcert.io/node-index", operator: op, values });
    expect(nodesAdmitted(withTerms([{ matchExpressions: [idx("Gt", ["0"]), idx("NotIn", ["2"])] }]), nodes)).toEqual([
      "volcert-run-21d9-worker",
    ]);
    const cp = { key: "node-role.kubernetes.io/control-plane", operator: "Exists" };
    const field = { key: "metadata.name", operator: "In", values: ["volcert-run-21d9-worker2"] };
    expect(nodesAdmitted(withTerms([{ matchExpressions: [cp] }, { matchFields: [field] }]), nodes)).toEqual([
      "volcert-run-21d9-control-plane",
      "volcert-run-21d9-worker2",
    ]);
    expect(nodesAdmitted(withTerms([{ matchExpressions: [{ ...cp, operator: "DoesNotExist" }] }]), nodes)).toHaveLength(
      2,
    );
  });
});
