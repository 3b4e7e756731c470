import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { runTargets, selectSteps, stepKeys } from "./build.ts";
import { driverPreloads, imageNames, loadManifest } from "./manifest.ts";
import { buildPlan, helmLdflags, NODE_DRIVERS_STEP, requiredVersion } from "./plan.ts";

const m = loadManifest();
const gomod = (name: string) => readFileSync(new URL(`./gomod/${name}/go.mod`, import.meta.url), "utf8");

describe("build plan", () => {
  test("committed wrapper modules pin the versions versions.yaml names", () => {
    expect(requiredVersion(gomod("kubernetes"), "k8s.io/kubernetes")).toBe(m.kubernetes.version);
    expect(requiredVersion(gomod("etcd"), "go.etcd.io/etcd/server/v3")).toBe(m.etcd);
    expect(requiredVersion(gomod("crictl"), "sigs.k8s.io/cri-tools")).toBe(m.crictl);
    expect(requiredVersion(gomod("provisioner"), "github.com/kubernetes-csi/external-provisioner/v6")).toBe(
      m.csi.provisioner,
    );
    expect(requiredVersion(gomod("csi"), "github.com/kubernetes-csi/external-attacher/v4")).toBe(m.csi.attacher);
    expect(requiredVersion(gomod("csi"), "github.com/kubernetes-csi/external-resizer")).toBe(m.csi.resizer);
    expect(requiredVersion(gomod("csi"), "github.com/kubernetes-csi/external-snapshotter/v8")).toBe(m.csi.snapshotter);
    expect(requiredVersion(gomod("helm"), "helm.sh/helm/v3")).toBe(m.helm);
  });

  test("helm gets the -X flags of Helm's own release build", () => {
    const clientGo = requiredVersion(gomod("helm"), "k8s.io/client-go");
    expect(clientGo).toMatch(/^v0\.\d+\.\d+$/);
    const minor = clientGo!.split(".")[1];
    expect(helmLdflags("v3.22.0", clientGo).split(" -X ")).toEqual([
      "-X helm.sh/helm/v3/internal/version.version=v3.22.0",
      "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1",
      `helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
      "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1",
      `helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
    ]);
    expect(helmLdflags("v3.22.0", null)).toBe("-X helm.sh/helm/v3/internal/version.version=v3.22.0");
  });

  test("the Kubernetes wrapper maps staging modules onto the release's v0 tags", () => {
    const text = gomod("kubernetes");
    expect(text).toContain(`k8s.io/api => k8s.io/api ${m.kubernetes.version.replace("v1.", "v0.")}`);
    expect(text).toContain("godebug default=go1.24");
  });

  test("keys are stable and a change reaches exactly the dependent steps", () => {
    const a = stepKeys(buildPlan(m));
    expect(stepKeys(buildPlan(m))).toEqual(a);
    const b = stepKeys(buildPlan({ ...m, coredns: "v1.12.2" }));
    const changed = [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
    expect(changed).toEqual(["go-coredns", "image-coredns", "image-node", "image-node-drivers"]);
  });

  test("a new workload tag rebuilds the workload and the node image, not Kubernetes", () => {
    const a = stepKeys(buildPlan(m));
    const b = stepKeys(buildPlan({ ...m, volcert: { ...m.volcert, workload: "9.9.9" } }));
    const changed = [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
    expect(changed).toEqual(["image-node", "image-node-drivers", "rootfs-workload"]);
  });

  test("a new CSI driver version rebuilds its binary, the CSI images and the drivers' node variant, never the node image", () => {
    const a = stepKeys(buildPlan(m));
    const b = stepKeys(buildPlan({ ...m, volcert: { ...m.volcert, csiHostpath: "9.9.9" } }));
    const changed = [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
    expect(changed).toEqual(["go-csi-hostpath", "image-csi", "image-node-drivers"]);
  });

  test("a sidecar bump rebuilds its binaries and images only; our sidecars' version rebuilds ours only", () => {
    const a = stepKeys(buildPlan(m));
    const changedBy = (next: typeof m) => {
      const b = stepKeys(buildPlan(next));
      return [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
    };
    expect(changedBy({ ...m, csi: { ...m.csi, attacher: "v4.13.0" } })).toEqual([
      "go-csi-sidecars",
      "image-csi-sidecars",
      "image-node-drivers",
    ]);
    expect(changedBy({ ...m, volcert: { ...m.volcert, csiSidecars: "9.9.9" } })).toEqual([
      "go-volcert-sidecars",
      "image-volcert-sidecars",
    ]);
    // The upstream tags a stand-in answers to are rewrite data, not build input.
    const standIns = { ...m.csi.standIns, livenessprobe: ["v2.99.0"] };
    expect(changedBy({ ...m, csi: { ...m.csi, standIns } })).toEqual([]);
  });

  test("a run builds the sidecars only for a driver that needs one of their images", () => {
    const plan = buildPlan(m);
    const onDemand = ["go-csi-sidecars", "go-volcert-sidecars", "image-csi-sidecars", "image-volcert-sidecars"];
    const reference = runTargets(plan, ["volcert/csi-provisioner:v6.3.0", "volcert/csi-hostpath:0.1.0"]);
    expect(reference).toContain("image-csi");
    expect(reference.filter((id) => onDemand.includes(id))).toEqual([]);
    const vendor = selectSteps(plan, runTargets(plan, [`volcert/livenessprobe:${m.volcert.csiSidecars}`])).map(
      (s) => s.id,
    );
    expect(vendor.filter((id) => onDemand.includes(id))).toEqual(["go-volcert-sidecars", "image-volcert-sidecars"]);
  });

  test("csi-netstore and the VolumeSnapshot API are built only for a run that needs them", () => {
    const plan = buildPlan(m);
    const netstore = ["go-csi-netstore", "image-csi-netstore"];
    const sidecars = ["go-csi-sidecars", "image-csi-sidecars"];
    const extra = [...netstore, ...sidecars, "snapshot-api"];
    // The default run (the reference drivers of today) builds none of them.
    const reference = runTargets(plan, ["volcert/csi-provisioner:v6.3.0", "volcert/csi-hostpath:0.1.0"]);
    expect(reference.filter((id) => extra.includes(id))).toEqual([]);
    const n = imageNames(m);
    const netstoreRun = selectSteps(
      plan,
      runTargets(
        plan,
        [n.csiNetstore, n.csiProvisioner, n.csiAttacher, n.csiResizer, n.csiSnapshotter, n.snapshotController],
        ["snapshot-api"],
      ),
    ).map((s) => s.id);
    expect(netstoreRun.filter((id) => extra.includes(id)).sort()).toEqual([...extra].sort());
    // The driver image alone pulls its binary and the runtime base, nothing else on demand.
    const alone = selectSteps(plan, runTargets(plan, [n.csiNetstore])).map((s) => s.id);
    expect(alone.filter((id) => extra.includes(id))).toEqual(netstore);
    expect(alone).toContain("rootfs-runtime");
    expect(() => runTargets(plan, [], ["no-such-step"])).toThrow(/unknown build step no-such-step/);
  });

  test("a new csi-netstore version rebuilds its binary and image only; a snapshotter bump re-reads the API", () => {
    const a = stepKeys(buildPlan(m));
    const changedBy = (next: typeof m) => {
      const b = stepKeys(buildPlan(next));
      return [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
    };
    expect(changedBy({ ...m, volcert: { ...m.volcert, csiNetstore: "9.9.9" } })).toEqual([
      "go-csi-netstore",
      "image-csi-netstore",
      "image-node-drivers",
    ]);
    expect(changedBy({ ...m, csi: { ...m.csi, snapshotter: "v8.4.0" } })).toEqual([
      "go-csi-sidecars",
      "image-csi-sidecars",
      "image-node-drivers",
      "snapshot-api",
    ]);
  });

  test("the drivers' node variant preloads exactly the images its dependencies build, and only on demand", () => {
    const plan = buildPlan(m);
    const variant = plan.find((s) => s.id === NODE_DRIVERS_STEP);
    expect(variant?.onDemand).toBe(true);
    // Rebuilt when an image it copies was rebuilt under the same key (node-preload.ts preloadCurrent).
    expect(variant?.current).toBeTypeOf("function");
    expect(variant?.images).toEqual([imageNames(m).nodeDrivers]);
    const built = plan
      .filter((s) => variant?.deps.includes(s.id) && s.id !== "image-node")
      .flatMap((s) => s.images)
      .sort();
    expect(built).toEqual([...driverPreloads(m)].sort());
    // Nothing builds it unless asked for by name (environment.ts nodeImageFor).
    expect(runTargets(plan, driverPreloads(m), ["snapshot-api"])).not.toContain(NODE_DRIVERS_STEP);
    expect(runTargets(plan, driverPreloads(m), [NODE_DRIVERS_STEP])).toContain(NODE_DRIVERS_STEP);
  });

  test("selecting a target pulls in its dependencies only", () => {
    const ids = selectSteps(buildPlan(m), ["image-etcd"])
      .map((s) => s.id)
      .sort();
    expect(ids).toEqual(["go-etcd", "image-etcd", "rootfs-runtime"]);
  });

  test("every dependency names a step of the plan", () => {
    const plan = buildPlan(m);
    const ids = new Set(plan.map((s) => s.id));
    for (const s of plan) for (const d of s.deps) expect(ids.has(d), `${s.id} → ${d}`).toBe(true);
  });
});
