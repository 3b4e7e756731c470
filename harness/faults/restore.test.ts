import { describe, expect, test } from "vitest";
import type { NodeAccess, NodeShell } from "../core/nodes.ts";
import { partitionHealScript, partitionInjectScript, restoreFault } from "./restore.ts";

/** A node shell recording what it is asked to run, answering like a node would. */
function recordingAccess(state: Record<string, "running" | "paused" | "stopped">, addresses: Record<string, string>) {
  const calls: string[] = [];
  const shell: NodeShell = {
    nodes: async () => Object.keys(state),
    exec: async (node, argv) => {
      calls.push(`${node}: ${argv.join(" ")}`);
      const active = argv.includes("is-active");
      return {
        command: "",
        exitCode: 0,
        signal: null,
        stdout: active ? "active\n" : "",
        stderr: "",
        durationMs: 1,
        ok: true,
      };
    },
    commandLine: (node, command) => `${node} ${command}`,
  };
  const access: NodeAccess = {
    shell,
    description: "test",
    lifecycle: {
      state: async (n) => state[n] ?? "unknown",
      stop: async () => undefined,
      start: async (n) => {
        calls.push(`start ${n}`);
        state[n] = "running";
      },
      pause: async () => undefined,
      unpause: async (n) => {
        calls.push(`unpause ${n}`);
        state[n] = "running";
      },
      address: async (n) => addresses[n] ?? "",
    },
  };
  return { access, calls };
}

describe("restoring faults from journal records", () => {
  test("a powered-off node is started and must keep its address", async () => {
    const { access, calls } = recordingAccess({ w1: "stopped" }, { w1: "172.18.0.3" });
    await restoreFault({ kind: "fault", fault: "node-stopped", node: "w1", address: "172.18.0.3" }, { access });
    expect(calls).toEqual(["start w1"]);
    const moved = recordingAccess({ w1: "stopped" }, { w1: "172.18.0.9" });
    await expect(
      restoreFault(
        { kind: "fault", fault: "node-stopped", node: "w1", address: "172.18.0.3" },
        { access: moved.access },
      ),
    ).rejects.toThrow("came back with address 172.18.0.9");
  });

  test("restores are idempotent: a running node, an unpaused node need nothing", async () => {
    const { access, calls } = recordingAccess({ w1: "running" }, { w1: "172.18.0.3" });
    await restoreFault({ kind: "fault", fault: "node-stopped", node: "w1", address: "172.18.0.3" }, { access });
    await restoreFault({ kind: "fault", fault: "node-paused", node: "w1" }, { access });
    expect(calls).toEqual([]);
  });

  test("a node found running with another address is not healed (a second heal must not pass it)", async () => {
    const { access } = recordingAccess({ w1: "running" }, { w1: "172.18.0.2" });
    await expect(
      restoreFault({ kind: "fault", fault: "node-stopped", node: "w1", address: "172.18.0.8" }, { access }),
    ).rejects.toThrow("cannot be healed: delete it");
  });

  test("a paused node is unpaused; a node fault without the node shell says so", async () => {
    const { access, calls } = recordingAccess({ w1: "paused" }, {});
    await restoreFault({ kind: "fault", fault: "node-paused", node: "w1" }, { access });
    expect(calls).toEqual(["unpause w1"]);
    await expect(restoreFault({ kind: "fault", fault: "partition", node: "w1", device: "eth0" }, {})).rejects.toThrow(
      "needs the node shell",
    );
  });

  test("the partition heal removes every jump the inject added, then the chain, and proves it", () => {
    const inject = partitionInjectScript("eth0");
    const heal = partitionHealScript("eth0");
    for (const jump of ["INPUT -i eth0", "FORWARD -i eth0", "OUTPUT -o eth0", "FORWARD -o eth0"]) {
      expect(inject).toContain(`-I ${jump.replace(" ", " 1 ")} -j VOLCERT-PARTITION`);
      expect(heal).toContain(`-D ${jump} -j VOLCERT-PARTITION`);
    }
    expect(heal.trim().split("\n").at(-1)).toBe("! iptables -w 10 -S VOLCERT-PARTITION >/dev/null 2>&1");
  });

  test("the kubelet is started in the node and waited for", async () => {
    const { access, calls } = recordingAccess({ w1: "running" }, {});
    await restoreFault({ kind: "fault", fault: "kubelet-stopped", node: "w1" }, { access });
    expect(calls[0]).toContain("systemctl");
    expect(calls[0]).toContain("start");
  });

  test("API faults without the API say so", async () => {
    await expect(restoreFault({ kind: "fault", fault: "taint", node: "w1", key: "k" }, {})).rejects.toThrow(
      "needs the cluster's API",
    );
  });
});
