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
