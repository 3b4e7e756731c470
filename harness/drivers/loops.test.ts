import { describe, expect, test } from "vitest";
import { orphanLoops } from "./loops.ts";

// `losetup --list --noheadings --output NAME,BACK-FILE` on the host after a leaky FlexVolume case
// (recorded) plus a device that is not volcert's.
const recorded = `/dev/loop0 /var/lib/volcert-flex-loop/volcert-bd-01-5d366d-pv.img (deleted)
/dev/loop1 /var/lib/volcert-flex-loop/volcert-bd-02-aaaaaa-pv.img
/dev/loop2 /home/someone/disk.img (deleted)
`;

describe("orphaned loop devices", () => {
  test("only volcert's devices whose backing file is gone", () => {
    expect(orphanLoops(recorded)).toEqual([
      { device: "/dev/loop0", file: "/var/lib/volcert-flex-loop/volcert-bd-01-5d366d-pv.img (deleted)" },
    ]);
  });
});

describe("after the node container is deleted", () => {
  test("the kernel reports the path relative to the node's former /var volume (recorded)", () => {
    expect(orphanLoops("/dev/loop0 /lib/volcert-flex-loop/volcert-bd-01-5d366d-pv.img (deleted)\n")).toHaveLength(1);
  });
});

describe("csi-netstore images on the cluster's shared storage", () => {
  test("a deleted image still attached is an orphan, seen from the node or after it is gone; a live one is not", () => {
    const list = [
      "/dev/loop4 /var/lib/volcert-netstore/volcert-csi-netstore/volumes/pvc-1/disk.img (deleted)",
      "/dev/loop5 /volcert-csi-netstore-double-attach/volumes/pvc-2/disk.img (deleted)",
      "/dev/loop6 /var/lib/volcert-netstore/volcert-csi-netstore/volumes/pvc-3/disk.img",
      "/dev/loop7 /srv/other-csi-netstore/disk.img (deleted)",
    ].join("\n");
    expect(orphanLoops(list).map((l) => l.device)).toEqual(["/dev/loop4", "/dev/loop5"]);
  });
});
