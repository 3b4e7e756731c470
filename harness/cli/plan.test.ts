import { describe, expect, test } from "vitest";
import { ConfigError } from "../core/errors.ts";
import { caseFilter, planRun, type PlannedDriver, type RunOptions } from "./plan.ts";

const d = (name: string, broken = false): PlannedDriver => ({ name, file: `/f/${name}/driver.yaml`, broken });
const available = [d("csi-hostpath"), d("csi-hostpath-leaky", true), d("flex-loop"), d("intree-local")];
const base: RunOptions = { mode: "run", keepCluster: false, workers: 2 };
const names = (ds: PlannedDriver[]) => ds.map((x) => x.name);

describe("run planning", () => {
  test("the main job certifies every reference driver, runs chaos for all, never installs broken fixtures", () => {
    const p = planRun(base, available, "20261201-ab12");
    expect(names(p.drivers)).toEqual(["csi-hostpath", "flex-loop", "intree-local"]);
    expect(p.brokenFixtures).toEqual([]);
    expect(names(p.chaosDrivers)).toEqual(names(p.drivers));
    expect(p.projects).toEqual(["e2e"]);
    expect(p.chaosFiles).toEqual(["suites/chaos/"]);
    expect(p.cluster).toEqual({ name: "volcert-run-ab12", workers: 2, reuse: false, keep: false });
  });

  test("volcert's own tests add the broken fixtures and the self-test projects", () => {
    const p = planRun({ ...base, mode: "test", chaosDrivers: ["flex-loop"] }, available, "x-0001");
    expect(names(p.drivers)).toEqual(["csi-hostpath", "flex-loop", "intree-local"]);
    expect(names(p.brokenFixtures)).toEqual(["csi-hostpath-leaky"]);
    expect(names(p.chaosDrivers)).toEqual(["flex-loop"]);
    expect(p.projects).toEqual(["e2e", "selftest"]);
    expect(p.chaosFiles).toEqual([]);
  });

  test("--no-chaos, --driver and --reuse", () => {
    const p = planRun(
      { ...base, chaos: false, drivers: ["flex-loop"], reuse: true, name: "volcert-dev" },
      available,
      "x-0001",
    );
    expect(names(p.drivers)).toEqual(["flex-loop"]);
    expect(p.chaosDrivers).toEqual([]);
    expect(p.cluster).toMatchObject({ name: "volcert-dev", reuse: true, keep: true });
  });

  test("every problem with the options is listed at once", () => {
    const err = (() => {
      try {
        planRun(
          {
            ...base,
            drivers: ["nope", "csi-hostpath-leaky"],
            chaosDrivers: ["intree-local"],
            cases: ["dp-5"],
            workers: 9,
            reuse: true,
          },
          available,
          "x-0001",
        );
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      "--driver nope: unknown (known: csi-hostpath, flex-loop, intree-local)",
      "--driver csi-hostpath-leaky: unknown (known: csi-hostpath, flex-loop, intree-local)",
      "--chaos-driver intree-local: not a driver this run certifies (this run: none)",
      "--case dp-5: not a test ID (DP-02) or area (DP)",
      "--workers 9: must be a whole number from 0 to 3",
      "--reuse needs --name (the cluster to reuse)",
    ]);
  });
});

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
