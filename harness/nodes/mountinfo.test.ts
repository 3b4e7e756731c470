import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { NodeShell } from "../core/nodes.ts";
import { mountsOfPod, parseMountinfo, podMountsOnNode } from "./mountinfo.ts";

const recorded = (name: string) => readFileSync(new URL(`../../fixtures/recorded/${name}`, import.meta.url), "utf8");
// A kind worker while pod 3f699d2f-... ran with an emptyDir (medium Memory) mounted twice, once
// through a subPath; and after that pod was deleted. See fixtures/recorded/README.md.
const withPod = recorded("kind-node-mountinfo-pod-volumes.txt");
const afterPod = recorded("kind-node-mountinfo-pod-deleted.txt");
const UID = "3f699d2f-8646-4f6b-b446-32177aa3545f";

describe("mountinfo parsing (recorded on a kind node)", () => {
  test("every line becomes one mount", () => {
    const mounts = parseMountinfo(withPod);
    expect(mounts).toHaveLength(withPod.trim().split("\n").length);
    expect(mounts[0]).toMatchObject({ mountPoint: "/", parentId: expect.any(Number) });
  });

  test("fields around the optional propagation fields", () => {
    const scratch = parseMountinfo(withPod).find((m) => m.mountPoint.endsWith("kubernetes.io~empty-dir/scratch"));
    expect(scratch).toEqual({
      id: 797,
      parentId: 117,
      device: "0:303",
      root: "/",
      mountPoint: `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~empty-dir/scratch`,
      options: ["rw", "relatime"],
      propagation: ["shared:120"],
      fsType: "tmpfs",
      source: "tmpfs",
      superOptions: ["rw", "size=24683584k", "noswap"],
    });
  });

  test("octal escapes in paths are decoded (a mount point with a space)", () => {
    const m = parseMountinfo(withPod).find((x) => x.source === "volcert-rec");
    expect(m?.mountPoint).toBe("/tmp/volcert rec");
  });

  test("a line without the separator is an error, not a silently missing mount", () => {
    expect(() => parseMountinfo("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw\n")).toThrow(
      /not a mountinfo line/,
    );
  });
});

describe("mounts of a pod", () => {
  test("its volumes and its subPath bind mount while it runs", () => {
    expect(mountsOfPod(parseMountinfo(withPod), UID).map((m) => m.mountPoint)).toEqual([
      `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~empty-dir/scratch`,
      `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~projected/kube-api-access-4fcfj`,
      `/var/lib/kubelet/pods/${UID}/volume-subpaths/scratch/w/1`,
    ]);
  });

  test("none after the kubelet cleaned up", () => {
    expect(mountsOfPod(parseMountinfo(afterPod), UID)).toEqual([]);
  });

  test("read through the node shell with cat, in the node", async () => {
    const calls: string[][] = [];
    const shell: NodeShell = {
      nodes: async () => ["volcert-rec-worker"],
      commandLine: (node, command) => `on ${node}: ${command}`,
      exec: async (node, argv) => {
        calls.push([node, ...argv]);
        return { command: "", exitCode: 0, signal: null, stdout: withPod, stderr: "", durationMs: 1, ok: true };
      },
    };
    expect(await podMountsOnNode(shell, "volcert-rec-worker", UID)).toHaveLength(3);
    expect(calls).toEqual([["volcert-rec-worker", "cat", "/proc/self/mountinfo"]]);
  });
});
