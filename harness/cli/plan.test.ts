import { describe, expect, test } from "vitest";
import { ConfigError } from "../core/errors.ts";
import { caseFilter, planRun, type PlannedDriver, type RunOptions } from "./plan.ts";

const d = (name: string, broken = false): PlannedDriver => ({ name, file: `/f/${name}/driver.yaml`, broken });
const available = [
  d("csi-hostpath"),
  d("csi-hostpath-leaky", true),
  d("flex-loop"),
  d("flex-loop-leaky-unmount", true),
  d("intree-local"),
];
const base: RunOptions = { mode: "run", keepCluster: false, workers: 2 };
const five = ["csi-hostpath", "csi-netstore", "flex-loop", "intree-hostpath", "intree-local"].map((n) => d(n));
const NF_IDS = Array.from({ length: 11 }, (_, i) => `NF-${String(i + 1).padStart(2, "0")}`);
/** The NF profiles of the five reference drivers, the shape run.ts reads from the catalog (11 and 8 cases). */
const profile = (quickInstall: boolean, skip: string[] = []) => ({
  runs: NF_IDS.filter((i) => !skip.includes(i)),
  outside: skip,
  quickInstall,
});
const FIVE_PROFILES = {
  "csi-hostpath": profile(false),
  "csi-netstore": profile(false),
  "flex-loop": profile(true, ["NF-07", "NF-08", "NF-11"]),
  "intree-hostpath": profile(true, ["NF-03", "NF-07", "NF-08"]),
  "intree-local": profile(true, ["NF-07", "NF-08", "NF-11"]),
};
const names = (ds: PlannedDriver[]) => ds.map((x) => x.name);

describe("run planning", () => {
  test("the main job certifies every reference driver, runs chaos for all, never installs broken fixtures", () => {
    const p = planRun(base, available, "20261201-ab12");
    expect(names(p.drivers)).toEqual(["csi-hostpath", "flex-loop", "intree-local"]);
    expect(p.brokenFixtures).toEqual([]);
    expect(names(p.chaosDrivers)).toEqual(names(p.drivers));
    expect(p.projects).toEqual(["e2e"]);
    expect(p.chaosFiles).toEqual(["suites/chaos/"]);
    expect(p.cluster).toEqual({
      name: "volcert-run-ab12",
      workers: 2,
      reuse: false,
      keep: false,
      fastNodeMonitor: false,
    });
  });

  test("volcert's own tests add the broken fixtures and the self-test projects", () => {
    const p = planRun({ ...base, mode: "test", chaosDrivers: ["flex-loop"] }, available, "x-0001");
    expect(names(p.drivers)).toEqual(["csi-hostpath", "flex-loop", "intree-local"]);
    expect(names(p.brokenFixtures)).toEqual(["csi-hostpath-leaky", "flex-loop-leaky-unmount"]);
    expect(names(p.chaosDrivers)).toEqual(["flex-loop"]);
    expect(p.projects).toEqual(["e2e", "selftest"]);
    expect(p.chaosFiles).toEqual([]);
    // The chaos self-test runs in the one chaos cluster, with the fixture it needs.
    expect(p.chaosLanes).toEqual([
      {
        cluster: "volcert-test-0001-nf1",
        drivers: [d("flex-loop")],
        brokenFixtures: [d("flex-loop-leaky-unmount", true)],
        files: [],
        caseSubsets: {},
      },
    ]);
  });

  test("chaos runs in clusters of its own, drivers dealt evenly, at most --chaos-clusters", () => {
    const main = planRun(base, available, "20261201-ab12");
    expect(main.chaosLanes.map((l) => [l.cluster, names(l.drivers), l.files])).toEqual([
      ["volcert-run-ab12-nf1", ["csi-hostpath"], ["suites/chaos/"]],
      ["volcert-run-ab12-nf2", ["flex-loop"], ["suites/chaos/"]],
      ["volcert-run-ab12-nf3", ["intree-local"], ["suites/chaos/"]],
    ]);
    expect(main.chaosLanes.every((l) => l.brokenFixtures.length === 0)).toBe(true);
    const two = planRun({ ...base, mode: "test", chaosClusters: 2 }, available, "x-0001");
    expect(two.chaosLanes.map((l) => [names(l.drivers), names(l.brokenFixtures), l.files])).toEqual([
      [["csi-hostpath", "intree-local"], [], ["suites/chaos/"]],
      [["flex-loop"], ["flex-loop-leaky-unmount"], []],
    ]);
    expect(main.chaosInMain).toEqual([]);
    expect(main.cluster.fastNodeMonitor).toBe(false);
    const inMain = (o: Partial<RunOptions>) => {
      const p = planRun({ ...base, ...o }, available, "x-0001");
      return [names(p.chaosInMain), p.chaosLanes.length];
    };
    expect(inMain({ chaosClusters: 0 })).toEqual([["csi-hostpath", "flex-loop", "intree-local"], 0]);
    // A reused cluster is the only one: chaos runs there, after the other suites; so in repro mode.
    expect(inMain({ reuse: true, name: "volcert-dev" })).toEqual([["csi-hostpath", "flex-loop", "intree-local"], 0]);
    expect(inMain({ keepCase: true })).toEqual([["csi-hostpath", "flex-loop", "intree-local"], 0]);
    expect(inMain({ chaos: false })).toEqual([[], 0]);
    expect(inMain({ keepCluster: true })).toEqual([["csi-hostpath", "flex-loop", "intree-local"], 0]);
    // No NF case selected: no cluster is created for it.
    expect(inMain({ cases: ["DP-02", "RP"] })).toEqual([["csi-hostpath", "flex-loop", "intree-local"], 0]);
    expect(inMain({ mode: "test", cases: ["SELF"] })[1]).toBe(3);
  });

  test("the drivers that share a chaos cluster are those with the fewest NF cases", () => {
    const p = planRun({ ...base, chaosProfiles: FIVE_PROFILES, creationSlots: 1 }, five, "x-0001");
    // Longest lane first (its cluster is created first); one cluster at a time leaves no case to deal:
    // every later lane waits a round more.
    expect(p.chaosLanes.map((l) => [names(l.drivers), l.caseSubsets])).toEqual([
      [["flex-loop", "intree-local"], {}],
      [["csi-hostpath"], {}],
      [["csi-netstore"], {}],
      [["intree-hostpath"], {}],
    ]);
    // Without profiles every driver counts the same (name order, as before).
    expect(planRun(base, five, "x-0001").chaosLanes.map((l) => names(l.drivers))).toEqual([
      ["csi-hostpath", "intree-local"],
      ["csi-netstore"],
      ["flex-loop"],
      ["intree-hostpath"],
    ]);
  });

  test("cases of a quick-install driver in the lane that would end last are dealt to the lane that ends first", () => {
    // Two clusters at a time (2 cores): nf1 and the main cluster first, nf2 and nf3 a round later,
    // nf4 two rounds later. nf1 (16 cases) gives intree-local's last two to nf4 (8 + 2); then
    // the CSI lanes end last, and their cases stay (a second CSI install would cost a minute).
    const p = planRun({ ...base, chaosProfiles: FIVE_PROFILES, creationSlots: 2 }, five, "x-0001");
    expect(p.chaosLanes.map((l) => [l.cluster, names(l.drivers), l.caseSubsets])).toEqual([
      [
        "volcert-run-0001-nf1",
        ["flex-loop", "intree-local"],
        { "intree-local": ["NF-01", "NF-02", "NF-03", "NF-04", "NF-05", "NF-06", "NF-07", "NF-08", "NF-11"] },
      ],
      ["volcert-run-0001-nf2", ["csi-hostpath"], {}],
      ["volcert-run-0001-nf3", ["csi-netstore"], {}],
      ["volcert-run-0001-nf4", ["intree-hostpath", "intree-local"], { "intree-local": ["NF-09", "NF-10"] }],
    ]);
    // Every NF case of intree-local is registered exactly once (those outside its profile in its home lane).
    const dealt = p.chaosLanes.flatMap((l) => l.caseSubsets["intree-local"] ?? []).sort();
    expect(dealt).toEqual([...NF_IDS]);
    // The CI command's lanes (three drivers, three clusters, the self-tests in one): nothing is dealt.
    const ci = planRun(
      {
        ...base,
        mode: "test",
        chaosDrivers: ["csi-hostpath", "flex-loop", "intree-local"],
        chaosProfiles: FIVE_PROFILES,
        creationSlots: 2,
      },
      available,
      "x-0001",
    );
    expect(ci.chaosLanes.every((l) => Object.keys(l.caseSubsets).length === 0)).toBe(true);
  });

  test("a run of NF cases only: the main cluster takes a group itself, with fast node-failure detection", () => {
    const one = planRun({ ...base, cases: ["NF-04"], drivers: ["csi-hostpath"] }, available, "x-0001");
    expect(names(one.chaosInMain)).toEqual(["csi-hostpath"]);
    expect(one.chaosLanes).toEqual([]);
    expect(one.cluster.fastNodeMonitor).toBe(true);
    const all = planRun({ ...base, mode: "test", cases: ["NF"] }, available, "x-0001");
    // The chaos self-tests stay with the main cluster, where every broken fixture is installed.
    expect(names(all.chaosInMain)).toEqual(["csi-hostpath"]);
    expect(all.chaosLanes.map((l) => [l.cluster, names(l.drivers), names(l.brokenFixtures), l.files])).toEqual([
      ["volcert-test-0001-nf1", ["flex-loop"], [], ["suites/chaos/"]],
      ["volcert-test-0001-nf2", ["intree-local"], [], ["suites/chaos/"]],
    ]);
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
            chaosClusters: 1.5,
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
      "--driver nope: no such reference driver (reference drivers: csi-hostpath, flex-loop, intree-local; a driver of your own is given by its path, e.g. ./my-driver/driver.yaml)",
      "--driver csi-hostpath-leaky: no such reference driver (reference drivers: csi-hostpath, flex-loop, intree-local; a driver of your own is given by its path, e.g. ./my-driver/driver.yaml)",
      "--chaos-driver intree-local: not a driver this run certifies (this run: none)",
      "--case dp-5: not a test ID (DP-02) or area (DP)",
      "--workers 9: must be a whole number from 0 to 3",
      "--reuse needs --name (the cluster to reuse)",
      "--chaos-clusters 1.5: must be a whole number from 0 to 8",
    ]);
  });
});

describe("options checked against the catalog", () => {
  const catalog = {
    ids: ["SMOKE-01", "AM-01", "AM-04", "NF-01"],
    driverIds: ["AM-01", "AM-04", "NF-01"],
    driverAreas: ["AM", "NF"],
  };
  const problems = (o: Partial<RunOptions>) => {
    try {
      planRun({ ...base, ...o }, available, "x-0001", catalog);
      return [];
    } catch (e) {
      return [...(e as ConfigError).problems];
    }
  };
  test("unknown IDs and areas, in --case and --require, are named", () => {
    expect(problems({ cases: ["AM-09", "XX", "SELF"] })).toEqual([
      "--case AM-09: no such test ID (areas: AM, NF, SMOKE; volcert cases lists them)",
      "--case XX: no such area (areas: AM, NF, SMOKE; volcert cases lists them)",
      "--case SELF: no such area (areas: AM, NF, SMOKE; volcert cases lists them)",
    ]);
    expect(problems({ mode: "test", cases: ["SELF", "AM-01"] })).toEqual([]);
    expect(problems({ require: ["SMOKE-01", "AM"] })).toEqual([
      "--require SMOKE-01: not a driver test ID or area (areas: AM, NF)",
    ]);
  });
  test("contradicting flags", () => {
    expect(problems({ chaos: false, cases: ["NF-01"] })).toEqual([
      "--no-chaos contradicts --case NF-01 (NF cases are the chaos suite)",
    ]);
    expect(problems({ chaos: false, chaosDrivers: ["flex-loop"] })).toContain(
      "--no-chaos contradicts --chaos-driver (there is no chaos suite to restrict)",
    );
    expect(problems({ mode: "test", unitOnly: true, drivers: ["flex-loop"], reuse: true, name: "volcert-x" })).toEqual([
      "--unit-only runs no cluster, so --driver, --name, --reuse cannot apply",
    ]);
    expect(problems({ name: "Dev" })).toEqual([
      "--name Dev: a cluster name is volcert-<lowercase letters, digits, '-'>",
    ]);
  });
});

describe("test-only variants", () => {
  const pool = [...available, { ...d("csi-hostpath-helm"), testOnly: true }];
  test("join volcert's own tests, and the main job only when named", () => {
    expect(names(planRun(base, pool, "x").drivers)).not.toContain("csi-hostpath-helm");
    expect(names(planRun({ ...base, mode: "test" }, pool, "x").drivers)).toContain("csi-hostpath-helm");
    expect(names(planRun({ ...base, drivers: ["csi-hostpath-helm"] }, pool, "x").drivers)).toEqual([
      "csi-hostpath-helm",
    ]);
  });
});

describe("existing clusters and installed drivers", () => {
  const problems = (o: Partial<RunOptions>, pool = available) => {
    try {
      planRun({ ...base, ...o }, pool, "x-0001");
      return [];
    } catch (e) {
      return [...(e as ConfigError).problems];
    }
  };
  test("--kubeconfig: never created or deleted, so no --name/--reuse/--keep-cluster; the cluster is kept", () => {
    expect(problems({ kubeconfig: "k", name: "volcert-x", reuse: true })).toEqual([
      "--kubeconfig names an existing cluster volcert never creates or deletes, so --name, --reuse cannot apply",
    ]);
    const p = planRun({ ...base, kubeconfig: "k", context: "c" }, available, "x-0001");
    expect(p.cluster).toMatchObject({ keep: true, kubeconfig: { path: "k", context: "c" } });
    expect(problems({ context: "c" })).toEqual(["--context needs --kubeconfig"]);
  });
  test("an installed driver needs an existing cluster; --installed marks every driver", () => {
    const pool = [...available, { ...d("acme"), preinstalled: true }];
    expect(problems({ drivers: ["acme"] }, pool)).toEqual([
      "driver acme describes a driver already installed (an upstream storage.testdriver file, or no manifests): test it on the cluster where it is installed with --kubeconfig",
    ]);
    expect(planRun({ ...base, drivers: ["acme", "flex-loop"], kubeconfig: "k" }, pool, "x").installedDrivers).toEqual([
      "acme",
    ]);
    expect(problems({ installed: true })).toEqual([
      "--installed needs an existing cluster (--kubeconfig, or --reuse): a fresh cluster has no driver installed",
    ]);
    expect(
      planRun({ ...base, drivers: ["flex-loop"], reuse: true, name: "volcert-dev", installed: true }, pool, "x")
        .installedDrivers,
    ).toEqual(["flex-loop"]);
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
