/**
 * The chaos suite can fail too: a FlexVolume driver whose unmount does nothing leaves the deleted
 * pod's mount behind once the kubelet returns, and NF-02 must say so (runs in the serial chaos
 * project, after the other disruptive cases).
 */
import { describe, expect, test } from "vitest";
import { CHAOS_CASES } from "../chaos/cases.ts";
import { runCase } from "../../harness/case/runtime.ts";
import { loadDriverAt } from "../../harness/case/drivers.ts";

describe("broken fixture drivers make the chaos cases that target their defect fail", () => {
  test("SELF NF-02 fails against flex-loop-leaky-unmount", async (t) => {
    const c = CHAOS_CASES.find((x) => x.meta.id === "NF-02");
    expect(c).toBeDefined();
    const driver = loadDriverAt("flex-loop-leaky-unmount");
    const outcome = await runCase(c!.meta, c!.body, driver, t).then(
      () => "passed",
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    expect(outcome, "NF-02 must fail against a driver whose unmount does nothing").not.toBe("passed");
    expect(outcome).toMatch(
      /gone after deletion: not done|mounts of pod \S+ cleaned up on \S+: not done|leak check failed/,
    );
  });
});
