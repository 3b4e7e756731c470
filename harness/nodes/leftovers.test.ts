import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { caseMounts, csiStagingPath, nodeSnapshotArgv, parseNodeSnapshot, type VolumeRef } from "./leftovers.ts";

const recorded = (name: string) => readFileSync(new URL(`../../fixtures/recorded/${name}`, import.meta.url), "utf8");

// The snapshot command on volcert-h10-worker with a CSI volume published (and a bind mount at its
// kubelet staging path) and a FlexVolume volume used by two pods; then after both were deleted;
// then with losetup not on PATH. See fixtures/recorded/README.md.
const kept = recorded("kind-node-leak-snapshot-flex-loop.txt");
const cleanedUp = recorded("kind-node-leak-snapshot-cleaned-up.txt");
const noLosetup = recorded("kind-node-leak-snapshot-no-losetup.txt");

const CSI: VolumeRef = {
  pv: "pvc-411d9f1a-a77f-4424-89fb-034f902c0375",
  csiDriver: "hostpath.csi.volcert.io",
  volumeHandle: "pvc-411d9f1a-a77f-4424-89fb-034f902c0375",
};
const FLEX: VolumeRef = { pv: "volcert-am-01-a98d0c-pv-claim" };
const FLEX_PODS = ["1e2282fb-bda2-49f4-b195-2d61c81dbcd4", "890fcfe5-b273-44dc-a73b-0c1c5b42ec4c"];

describe("node snapshot", () => {
  test("one sh command; paths are tested one by one, prefixes listed", () => {
    const argv = nodeSnapshotArgv(["/var/lib/kubelet/pods/u1"], ["/var/lib/volcert-volumes/ns"]);
    expect(argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(argv.slice(3)).toEqual(["sh", "p:/var/lib/kubelet/pods/u1", "g:/var/lib/volcert-volumes/ns"]);
  });

  test("parses the mount table, the loop devices and the paths present", () => {
    const s = parseNodeSnapshot(kept);
    expect(s.failures).toEqual([]);
    expect(s.mounts?.length).toBeGreaterThan(80);
    expect(s.loops).toEqual([
      { device: "/dev/loop0", file: "/var/lib/volcert-flex-loop/volcert-am-01-a98d0c-pv-claim.img" },
    ]);
    expect(s.present).toEqual([
      ...FLEX_PODS.map((u) => `/var/lib/kubelet/pods/${u}`),
      "/var/lib/volcert-flex-loop/volcert-am-01-a98d0c-pv-claim.img",
    ]);
  });

  test("after the kubelet and the driver cleaned up: no loop device, no pod directory", () => {
    const s = parseNodeSnapshot(cleanedUp);
    expect(s.failures).toEqual([]);
    expect(s.loops).toEqual([]);
    expect(s.present).toEqual(["/var/lib/volcert-flex-loop/volcert-am-01-a98d0c-pv-claim.img"]);
    expect(caseMounts(s.mounts ?? [], [...FLEX_PODS, "3f504cf5-62e9-4231-8a59-fe5383af16af"], [CSI, FLEX])).toEqual([]);
  });

  test("a probe that fails inside the node is a failure naming it, and the other probes still count", () => {
    const s = parseNodeSnapshot(noLosetup, recorded("kind-node-leak-snapshot-no-losetup.stderr.txt"));
    expect(s.failures).toEqual([{ probe: "losetup", error: "exited 127: sh: 2: losetup: not found" }]);
    expect(s.loops).toBeUndefined();
    expect(s.mounts?.length).toBeGreaterThan(80);
  });

  test("output cut short (the command was killed) fails every probe it did not finish", () => {
    const cut = kept.slice(0, kept.indexOf("@@@ losetup"));
    expect(parseNodeSnapshot(cut).failures.map((f) => f.probe)).toEqual(["losetup", "paths"]);
    expect(parseNodeSnapshot("").failures.map((f) => f.error)).toEqual(
      Array(3).fill("no complete output (the command was cut short)"),
    );
  });

  test("a garbled mount table is a failure, not an empty table", () => {
    const s = parseNodeSnapshot(kept.replace("@@@ mountinfo\n", "@@@ mountinfo\nnot a mount line\n"));
    expect(s.failures[0]?.probe).toBe("mountinfo");
    expect(s.mounts).toBeUndefined();
  });
});

describe("mounts of a case's pods and volumes", () => {
  const mounts = parseNodeSnapshot(kept).mounts ?? [];

  test("the kubelet's CSI staging path is <driver>/<sha256 of the handle>/globalmount", () => {
    expect(csiStagingPath(CSI.csiDriver!, CSI.volumeHandle!)).toBe(
      "/var/lib/kubelet/plugins/kubernetes.io/csi/hostpath.csi.volcert.io/833378c358fbfb5bb3c09d0d2364056abe6ffdc95d1c972b0597b6a56af93f64/globalmount",
    );
  });

  test("a CSI volume's staging (global) mount and its pod mount are found from the PV alone", () => {
    const found = caseMounts(mounts, [], [CSI]).map((f) => `${f.why}: ${f.mount.mountPoint}`);
    expect(found).toEqual([
      "mount of PV pvc-411d9f1a-a77f-4424-89fb-034f902c0375: /var/lib/kubelet/pods/3f504cf5-62e9-4231-8a59-fe5383af16af/volumes/kubernetes.io~csi/pvc-411d9f1a-a77f-4424-89fb-034f902c0375/mount",
      `CSI staging mount of PV pvc-411d9f1a-a77f-4424-89fb-034f902c0375: ${csiStagingPath(CSI.csiDriver!, CSI.volumeHandle!)}`,
    ]);
  });

  test("a FlexVolume driver's own global mount and its pods' mounts, each once", () => {
    const found = caseMounts(mounts, FLEX_PODS, [FLEX]).map((f) => `${f.why}: ${f.mount.mountPoint}`);
    expect(found).toEqual([
      `mount of pod ${FLEX_PODS[0]}: /var/lib/kubelet/pods/${FLEX_PODS[0]}/volumes/kubernetes.io~projected/kube-api-access-rfsdb`,
      `mount of pod ${FLEX_PODS[0]}: /var/lib/kubelet/pods/${FLEX_PODS[0]}/volumes/volcert~loop/volcert-am-01-a98d0c-pv-claim`,
      `mount of pod ${FLEX_PODS[1]}: /var/lib/kubelet/pods/${FLEX_PODS[1]}/volumes/kubernetes.io~projected/kube-api-access-c774b`,
      `mount of pod ${FLEX_PODS[1]}: /var/lib/kubelet/pods/${FLEX_PODS[1]}/volumes/volcert~loop/volcert-am-01-a98d0c-pv-claim`,
      "mount of PV volcert-am-01-a98d0c-pv-claim: /var/lib/volcert-flex-loop/mnt/volcert-am-01-a98d0c-pv-claim",
    ]);
  });

  test("nothing of other pods and volumes", () => {
    expect(caseMounts(mounts, ["00000000-0000-0000-0000-000000000000"], [{ pv: "pvc-other" }])).toEqual([]);
  });
});
