import { describe, expect, test } from "vitest";
import { caseFilter } from "./run.ts";

describe("--case filter", () => {
  const full = (t: string) => new RegExp(caseFilter(["DP-05", "RP", "SELF"])).test(t);
  test("matches IDs and areas inside vitest full names", () => {
    expect(full("DP dynamic provisioning DP-05 the class's mount options [csi-hostpath]")).toBe(true);
    expect(full("RP reclaim policies RP-03 Retain (static) [intree-local]")).toBe(true);
    expect(full("broken fixture drivers SELF RP-01 fails against csi-hostpath-leaky")).toBe(true);
    expect(full("DP dynamic provisioning DP-06 sizes round up [csi-hostpath]")).toBe(false);
    expect(full("AM access modes AM-01 RWO [flex-loop]")).toBe(false);
  });
  test("rejects what is not an ID", () => {
    expect(() => caseFilter(["dp-05"])).toThrow(/test IDs/);
  });
});
