import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../../harness/core/errors.ts";
import {
  checkKubeadmImages,
  imageNames,
  inNodeAliases,
  loadManifest,
  parseManifest,
  preloadedImages,
  stagingVersion,
  upstreamNames,
} from "./manifest.ts";

const kubeadmList = readFileSync(
  new URL("../../fixtures/recorded/kubeadm-config-images-list-v1.34.10.txt", import.meta.url),
  "utf8",
);

describe("version manifest", () => {
  const m = loadManifest();

  test("the committed versions.yaml is valid and pins a 1.34 patch", () => {
    expect(m.kubernetes.version).toMatch(/^v1\.34\.\d+$/);
    expect(m.kind).toBe("v0.31.0");
    expect(stagingVersion(m.kubernetes.version)).toBe(m.kubernetes.version.replace("v1.", "v0."));
  });

  test("every image the built kubeadm lists is built (recorded `kubeadm config images list`)", () => {
    expect(checkKubeadmImages(m, kubeadmList)).toEqual([]);
  });

  test("an etcd bump in kubeadm that versions.yaml misses is reported", () => {
    const problems = checkKubeadmImages({ ...m, etcd: "v3.6.4" }, kubeadmList);
    expect(problems).toEqual([expect.stringContaining("registry.k8s.io/etcd:3.6.5-0")]);
  });

  test("kubeadm's pause line is ignored: containerd's sandbox_image decides", () => {
    expect(kubeadmList).toContain("registry.k8s.io/pause:3.10.1");
    expect(inNodeAliases(m)).toContainEqual({ local: "volcert/pause:3.10", upstream: "registry.k8s.io/pause:3.10" });
  });

  test("host images are all volcert/*; upstream names exist only inside the node image", () => {
    const n = imageNames(m);
    expect(Object.values(n).every((i) => i.startsWith("volcert/"))).toBe(true);
    expect(n.node).toBe(`volcert/node:${m.kubernetes.version}`);
    expect(upstreamNames(m).etcd).toBe(`registry.k8s.io/etcd:${m.etcd.slice(1)}-0`);
    const preloaded = new Set(preloadedImages(m));
    expect(inNodeAliases(m).every((a) => preloaded.has(a.local))).toBe(true);
    expect(preloadedImages(m).every((i) => !i.endsWith(":latest"))).toBe(true);
  });

  test("all problems are listed at once, unknown keys included", () => {
    const text = readFileSync(new URL("./versions.yaml", import.meta.url), "utf8")
      .replace("etcd: v3.6.5", "etcd: 3.6.5")
      .replace("coredns: v1.12.1", "coredns: v1.12.1\ncorends: v1.12.1");
    const err = (() => {
      try {
        parseManifest(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/^etcd: expected a tag like v1\.2\.3/),
      expect.stringMatching(/corends/),
    ]);
  });

  test("a stand-in's upstream tags must be tags, listed once", () => {
    const problemsWith = (tags: string) => {
      const text = readFileSync(new URL("./versions.yaml", import.meta.url), "utf8").replace(
        /livenessprobe: \[[^\]]*\]/,
        `livenessprobe: ${tags}`,
      );
      try {
        parseManifest(text);
      } catch (e) {
        return (e as ConfigError).problems;
      }
      return [];
    };
    expect(problemsWith("[v2.20.0, 2.19.0]")).toEqual([
      expect.stringMatching(/^csi\.standIns\.livenessprobe\.1: expected a tag like v1\.2\.3/),
    ]);
    expect(problemsWith("[v2.20.0, v2.20.0]")).toEqual(["csi.standIns.livenessprobe: a tag is listed twice"]);
    expect(problemsWith("[]")).toEqual([expect.stringMatching(/^csi\.standIns\.livenessprobe: /)]);
  });

  test("sidecar images are volcert's names, never upstream's", () => {
    const n = imageNames(m);
    expect(n.csiAttacher).toBe(`volcert/csi-attacher:${m.csi.attacher}`);
    expect(n.snapshotController).toBe(`volcert/snapshot-controller:${m.csi.snapshotter}`);
    expect(n.csiNodeDriverRegistrar).toBe(`volcert/csi-node-driver-registrar:${m.volcert.csiSidecars}`);
    expect(n.livenessprobe).toBe(`volcert/livenessprobe:${m.volcert.csiSidecars}`);
  });

  test("a 1.35 kubelet is refused with the reason", () => {
    const text = readFileSync(new URL("./versions.yaml", import.meta.url), "utf8").replace(
      /version: v1\.34\.\d+/,
      "version: v1.35.0",
    );
    expect(() => parseManifest(text)).toThrow(/cgroup v1/);
  });
});
