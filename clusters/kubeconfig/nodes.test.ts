import { describe, expect, test } from "vitest";
import {
  helperExecArgs,
  helperNamespaceManifest,
  helperPodManifest,
  helperPodName,
  NODE_SHELL_NAMESPACE,
} from "./nodes.ts";

describe("helper pod node shell: command construction", () => {
  test("kubectl exec enters every namespace of the host's PID 1, then runs argv unchanged, bounded in the pod", () => {
    expect(
      helperExecArgs("/k/config", "node-shell-w1", ["sh", "-c", 'echo "$1"', "sh", "a b"], false, 120_000),
    ).toEqual([
      "--kubeconfig",
      "/k/config",
      "exec",
      "-n",
      NODE_SHELL_NAMESPACE,
      "node-shell-w1",
      "-c",
      "shell",
      "--",
      "timeout",
      "--kill-after=5s",
      "110s",
      "nsenter",
      "-t",
      "1",
      "-m",
      "-u",
      "-i",
      "-n",
      "-p",
      "--",
      "sh",
      "-c",
      'echo "$1"',
      "sh",
      "a b",
    ]);
  });

  test("stdin is attached only when there is input", () => {
    expect(helperExecArgs("/k", "p", ["cat"], true, 60_000).slice(2, 4)).toEqual(["exec", "-i"]);
    expect(helperExecArgs("/k", "p", ["cat"], false, 60_000).slice(2, 4)).toEqual(["exec", "-n"]);
  });

  test("one privileged pod per node, pinned to it, in the host's PID and network namespaces", () => {
    const pod = helperPodManifest("worker-1.example.com", "volcert/workload:1.0.0") as {
      metadata: { name: string; namespace: string };
      spec: Record<string, unknown> & {
        containers: { image: string; command: string[]; securityContext: { privileged: boolean } }[];
      };
    };
    expect(pod.metadata).toMatchObject({ name: "node-shell-worker-1.example.com", namespace: NODE_SHELL_NAMESPACE });
    expect(pod.spec).toMatchObject({
      nodeName: "worker-1.example.com",
      hostPID: true,
      hostNetwork: true,
      tolerations: [{ operator: "Exists" }],
    });
    expect(pod.spec.containers[0]).toMatchObject({
      image: "volcert/workload:1.0.0",
      command: ["sleep", "infinity"],
      securityContext: { privileged: true },
    });
  });

  test("its namespace admits privileged pods and is volcert's", () => {
    expect(helperNamespaceManifest()).toMatchObject({
      metadata: {
        name: NODE_SHELL_NAMESPACE,
        labels: { "pod-security.kubernetes.io/enforce": "privileged", "app.kubernetes.io/managed-by": "volcert" },
      },
    });
  });

  test("a node name too long for the prefix gets a stable hashed pod name", () => {
    const long = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
    expect(long.length).toBe(253);
    const name = helperPodName(long);
    expect(name).toMatch(/^node-shell-[0-9a-f]{16}$/);
    expect(helperPodName(long)).toBe(name);
  });
});
