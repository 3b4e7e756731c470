import { describe, expect, test } from "vitest";
import { areaTimes, parseCaseTitle, summaryTable } from "./vitest-runner.ts";

describe("run summary", () => {
  test("case titles carry ID, area and driver", () => {
    expect(parseCaseTitle("BD-03 unbound PV, then a matching claim [intree-local]")).toEqual({
      id: "BD-03",
      area: "BD",
      driver: "intree-local",
    });
    expect(parseCaseTitle("ED-01 two containers share an emptyDir")).toEqual({
      id: "ED-01",
      area: "ED",
      driver: "(cluster)",
    });
    expect(parseCaseTitle("not a case")).toBeNull();
  });

  test("driver × area table counts pass, fail and skip", () => {
    const t = summaryTable([
      { name: "LP-01 x [a]", state: "passed", file: "" },
      { name: "LP-02 y [a]", state: "failed", file: "" },
      { name: "LP-01 x [b]", state: "skipped", file: "" },
      { name: "ED-01 z", state: "passed", file: "" },
    ]);
    expect(t.split("\n")[0]).toMatch(/^driver\s+ED\s+LP/);
    expect(t).toMatch(/a\s+1✔ 1✘ 0–/);
    expect(t).toMatch(/b\s+0✔ 0✘ 1–/);
  });

  test("area times: wall from first start to last end, and the summed durations", () => {
    const t = areaTimes([
      { name: "DP-01 x [a]", state: "passed", file: "", startTime: 1000, durationMs: 4000 },
      { name: "DP-02 y [a]", state: "failed", file: "", startTime: 2000, durationMs: 6000 },
      { name: "DP-03 z [a]", state: "skipped", file: "", startTime: 0, durationMs: 0 },
    ]);
    expect(t).toMatch(/DP\s+2 cases\s+wall\s+7 s\s+summed\s+10 s/);
  });
});
