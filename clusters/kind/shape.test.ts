import { parse } from "yaml";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../../harness/core/errors.ts";
import { FAST_NODE_MONITOR, kindConfig, nodeContainerNames, parseShape } from "./shape.ts";
import { SHARED_STORAGE_NODE_PATH, sharedStorageDir } from "./state.ts";

describe("cluster shapes", () => {
  test("1 control plane + 2 workers with a local-PV mount", () => {
    const shape = parseShape({
      name: "volcert-t1",
      workers: 2,
      extraMounts: [{ hostPath: "/var/lib/volcert/lpv", containerPath: "/mnt/lpv", propagation: "HostToContainer" }],
    });
    const cfg = parse(kindConfig(shape));
    expect(cfg.kind).toBe("Cluster");
    expect(cfg.apiVersion).toBe("kind.x-k8s.io/v1alpha4");
    expect(cfg.nodes.map((n: { role: string }) => n.role)).toEqual(["control-plane", "worker", "worker"]);
    expect(cfg.nodes[2].labels).toEqual({ "volcert.io/node-index": "2" });
    expect(cfg.nodes[1].extraMounts).toEqual([
      { hostPath: "/var/lib/volcert/lpv", containerPath: "/mnt/lpv", propagation: "HostToContainer" },
    ]);
    expect(shape.defaultStorageClass).toBe(false);
  });

  test("a chaos cluster's node-failure detection goes into kubeadm's config, and nonsense is refused", () => {
    const shape = parseShape({ name: "volcert-t1-nf1", workers: 2, nodeMonitor: FAST_NODE_MONITOR });
    const cfg = parse(kindConfig(shape)) as { kubeadmConfigPatches: string[] };
    expect(cfg.kubeadmConfigPatches.map((p) => parse(p) as unknown)).toEqual([
      {
        kind: "ClusterConfiguration",
        controllerManager: { extraArgs: { "node-monitor-grace-period": "30s", "node-monitor-period": "2s" } },
      },
      { kind: "KubeletConfiguration", nodeLeaseDurationSeconds: 12, nodeStatusUpdateFrequency: "4s" },
    ]);
    expect(parse(kindConfig(parseShape({ name: "volcert-t1", workers: 2 })))).not.toHaveProperty(
      "kubeadmConfigPatches",
    );
    expect(() =>
      parseShape({ name: "volcert-t1", workers: 2, nodeMonitor: { ...FAST_NODE_MONITOR, leaseDurationSeconds: 40 } }),
    ).toThrow(ConfigError);
  });

  test("shared storage is one host directory of the cluster's own, mounted into every node", () => {
    const shape = parseShape({
      name: "volcert-t2",
      workers: 2,
      sharedStorage: true,
      extraMounts: [{ hostPath: "/var/lib/volcert/lpv", containerPath: "/mnt/lpv" }],
    });
    const cfg = parse(kindConfig(shape)) as { nodes: { extraMounts: unknown[] }[] };
    expect(sharedStorageDir("volcert-t2")).toMatch(/\/clusters\/volcert-t2\/shared-storage$/);
    for (const node of cfg.nodes)
      expect(node.extraMounts).toEqual([
        { hostPath: "/var/lib/volcert/lpv", containerPath: "/mnt/lpv" },
        { hostPath: sharedStorageDir("volcert-t2"), containerPath: SHARED_STORAGE_NODE_PATH },
      ]);
    // Another cluster's nodes see another directory: chaos clusters run side by side.
    expect(kindConfig(parseShape({ name: "volcert-t2-nf1", workers: 2, sharedStorage: true }))).toContain(
      sharedStorageDir("volcert-t2-nf1"),
    );
    expect(parseShape({ name: "volcert-t2", workers: 2 }).sharedStorage).toBe(false);
    expect(kindConfig(parseShape({ name: "volcert-t2", workers: 2 }))).not.toContain(SHARED_STORAGE_NODE_PATH);
  });

  test("a mount of its own where the shared storage goes is refused", () => {
    const shape = {
      name: "volcert-t2",
      workers: 1,
      sharedStorage: true,
      extraMounts: [{ hostPath: "/srv/x", containerPath: SHARED_STORAGE_NODE_PATH }],
    };
    expect(() => parseShape(shape)).toThrow(ConfigError);
    expect(() => parseShape({ ...shape, sharedStorage: false })).not.toThrow();
  });

  test("node container names follow kind's scheme", () => {
    expect(nodeContainerNames({ name: "volcert-a", workers: 3 })).toEqual([
      "volcert-a-control-plane",
      "volcert-a-worker",
      "volcert-a-worker2",
      "volcert-a-worker3",
    ]);
  });

  test("every problem is listed: name prefix, worker count, relative path, unknown key", () => {
    let err: unknown;
    try {
      parseShape({ name: "demo", workers: 5, extraMounts: [{ hostPath: "tmp", containerPath: "/x" }], wrokers: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    expect(problems).toContain('must start with "volcert-"');
    expect(problems).toContain("workers");
    expect(problems).toContain("extraMounts.0.hostPath: must be an absolute path");
    expect(problems).toContain("wrokers");
  });
});
