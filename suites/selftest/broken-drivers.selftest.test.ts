/**
 * volcert's own guarantee that its suites can fail: each deliberately broken fixture driver is run
 * through the cases that target its defect, and those cases must fail, blaming the driver, for
 * the specific reason (see oracle.ts). Evidence is still attached to the report by the runtime.
 */
import { describe, expect, test } from "vitest";
import { ACCESS_MODE_CASES } from "../access-modes/cases.ts";
import { ATTACH_CASES } from "../attach/cases.ts";
import { EXPANSION_CASES } from "../expansion/cases.ts";
import { SNAPSHOT_CASES } from "../snapshots/cases.ts";
import { BINDING_CASES } from "../binding/cases.ts";
import { INSTALL_CASES } from "../install/cases.ts";
import { LOCAL_PV_CASES } from "../local-pv/cases.ts";
import { RECLAIM_CASES } from "../reclaim/cases.ts";
import { PROVISIONING_CASES } from "../provisioning/cases.ts";
import { CAPACITY_CASES } from "../capacity/cases.ts";
import type { Case } from "../../harness/case/runtime.ts";
import { expectCaught, selfTestTimeout } from "./oracle.ts";

function pick(cases: Case[], id: string): Case {
  const c = cases.find((x) => x.meta.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
}

interface Expectation {
  driver: string;
  caseDef: Case;
  /** The specific wait or assertion that proves the defect. */
  because: RegExp;
}

const expectations: Expectation[] = [
  // Local-style volumes without node affinity: the pod goes where it prefers, not where the data is.
  {
    driver: "intree-local-no-affinity",
    caseDef: pick(LOCAL_PV_CASES, "LP-01"),
    because: /scheduled onto the node that holds the data/,
  },
  {
    driver: "intree-local-no-affinity",
    caseDef: pick(LOCAL_PV_CASES, "LP-03"),
    because: /^pod conflict: reported Unschedulable: not done after/,
  },
  // A FlexVolume unmount that reports success and does nothing: the mount and loop device stay
  // behind, kubelet cannot remove the pod's volume directory, and the pod never finishes deleting.
  {
    driver: "flex-loop-leaky-unmount",
    caseDef: pick(BINDING_CASES, "BD-01"),
    because: /^leak check failed[\s\S]*(mount of pod|loop device)|pod \S+ gone after deletion: not done after/,
  },
  // One ext4 instance per pod for the same image: pods sharing a volume on a node see different data.
  {
    driver: "flex-loop-incoherent",
    caseDef: pick(ACCESS_MODE_CASES, "AM-03"),
    because: /reads the previous pod's data/,
  },
  // A FlexVolume mount that ignores kubernetes.io/readwrite "ro": read-only in the container only.
  {
    driver: "flex-loop-rw",
    caseDef: pick(ACCESS_MODE_CASES, "AM-09"),
    because: /read-write although the kubelet asked for read-only/,
  },
  // A FlexVolume mount made noexec although the driver declares exec (static volumes: DP-03 is dynamic only).
  {
    driver: "flex-loop-noexec",
    caseDef: pick(ACCESS_MODE_CASES, "AM-10"),
    because: /mounted \S*noexec\S* although the driver declares exec/,
  },
  // Node-local CSI volumes provisioned without accessible topology: PVs with no node affinity.
  {
    driver: "csi-hostpath-no-topology",
    caseDef: pick(PROVISIONING_CASES, "DP-11"),
    because: /its node affinity \(none\) admits .* but its data is on/,
  },
  // A FlexVolume driver that initialises everywhere but cannot mount on one node.
  {
    driver: "flex-loop-one-node",
    caseDef: pick(INSTALL_CASES, "IN-04"),
    because: /-worker2: [\s\S]*not done after/,
  },
  // A per-node reference count off by one: churn leaves two pods on two instances of one volume.
  {
    driver: "flex-loop-refcount",
    caseDef: pick(ACCESS_MODE_CASES, "AM-11"),
    because: /two instances of one volume|reads what pod \S+ \(alive with it/,
  },
  // Every volume of a node is one image: two claims on a node share their storage.
  {
    driver: "flex-loop-shared",
    caseDef: pick(ACCESS_MODE_CASES, "AM-12"),
    because: /sees \/data\/isolation-claim-\d, written to claim-\d/,
  },
  // Filesystems a quarter of the size asked for: the PV promises four times what a pod can store.
  {
    driver: "flex-loop-small",
    caseDef: pick(CAPACITY_CASES, "CA-02"),
    because: /promises 64\.0 MiB but the ext4 filesystem a pod sees at \/data is 1\d\.\d MiB/,
  },
  // A CSI DeleteVolume that answers success and keeps the data: the PV goes, the directory stays.
  {
    driver: "csi-hostpath-leaky",
    caseDef: pick(RECLAIM_CASES, "RP-01"),
    because: /^volume data removed from every node[\s\S]*not done after[\s\S]*still present/,
  },
  // The same driver's NodePublishVolume drops the class's mount options.
  { driver: "csi-hostpath-leaky", caseDef: pick(PROVISIONING_CASES, "DP-05"), because: /mount option noatime/ },
  // A node plugin that exits at start: the install fails fast (crash loop), its installation case
  // fails with the plugin's own last log lines, and the run goes on with the other drivers.
  {
    driver: "csi-hostpath-crashloop",
    caseDef: pick(INSTALL_CASES, "IN-02"),
    because: /failed to install[\s\S]*crash-loop[\s\S]*last log lines[\s\S]*unknown --defect "exit-at-start"/,
  },
  // Network storage (csi-netstore) whose ControllerPublishVolume lets a second node attach a RWO volume.
  {
    driver: "csi-netstore-double-attach",
    caseDef: pick(ATTACH_CASES, "AT-02"),
    because: /attached only to \S+ while pod on-a uses it|: attached/,
  },
  // NodeExpandVolume that answers success and leaves the filesystem at its old size.
  {
    driver: "csi-netstore-no-node-expand",
    caseDef: pick(EXPANSION_CASES, "EX-03"),
    because: /^filesystem size in pod app at least [\s\S]*not done after/,
  },
  // Snapshots taken lazily: a restore holds the data of restore time, not of snapshot time.
  {
    driver: "csi-netstore-lazy-snapshot",
    caseDef: pick(SNAPSHOT_CASES, "SN-02"),
    because: /the restored claim has the data at snapshot time/,
  },
];

describe("broken fixture drivers make the suites that target their defect fail", () => {
  for (const e of expectations) {
    test.concurrent(
      `SELF ${e.caseDef.meta.id} fails against ${e.driver}`,
      (t) => expectCaught(e.caseDef, e.driver, e.because, t),
      selfTestTimeout(e.driver, false),
    );
  }
  test("the cases used above exist (guards against renamed IDs)", () => {
    expect(BINDING_CASES.map((c) => c.meta.id)).toContain("BD-01");
  });
});
