/**
 * The chaos suite can fail too: a FlexVolume driver whose unmount does nothing leaves the deleted
 * pod's mount behind once the kubelet returns, and NF-02 must say so, blaming the driver (runs in
 * the serial chaos project, after the other disruptive cases).
 */
import { describe, expect, test } from "vitest";
import { CHAOS_CASES } from "../chaos/cases.ts";
import { expectCaught, selfTestTimeout } from "./oracle.ts";

describe("broken fixture drivers make the chaos cases that target their defect fail", () => {
  test(
    "SELF NF-02 fails against flex-loop-leaky-unmount",
    async (t) => {
      const c = CHAOS_CASES.find((x) => x.meta.id === "NF-02");
      expect(c).toBeDefined();
      await expectCaught(
        c!,
        "flex-loop-leaky-unmount",
        /pod \S+ gone after deletion: not done after|mounts of pod \S+ cleaned up on \S+: not done after|^leak check failed/,
        t,
      );
    },
    selfTestTimeout("flex-loop-leaky-unmount", true),
  );
});
