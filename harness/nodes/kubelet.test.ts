import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { ExecResult } from "../core/exec.ts";
import type { NodeShell } from "../core/nodes.ts";
import { kubeletState, waitKubelet } from "./kubelet.ts";

const recorded = (name: string) => readFileSync(new URL(`../../fixtures/recorded/${name}`, import.meta.url), "utf8");

/** A node whose `systemctl is-active kubelet` answers as recorded (exit 0 active, 3 inactive). */
function nodeAnswering(...answers: { stdout: string; exitCode: number }[]): NodeShell & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    nodes: async () => ["volcert-rec-worker2"],
    commandLine: (node, command) => `on ${node}: ${command}`,
    exec: async (node, argv, opts): Promise<ExecResult> => {
      calls.push([node, ...argv]);
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      expect(opts?.nothrow).toBe(true); // exit 3 means inactive, not a failure
      return { command: "", signal: null, stderr: "", durationMs: 1, ok: a.exitCode === 0, ...a };
    },
  };
}

const active = { stdout: recorded("systemctl-is-active-kubelet-active.txt"), exitCode: 0 };
const inactive = { stdout: recorded("systemctl-is-active-kubelet-inactive.txt"), exitCode: 3 };

describe("kubelet state (recorded systemctl is-active)", () => {
  test("active and inactive, whatever the exit code", async () => {
    expect(await kubeletState(nodeAnswering(active), "volcert-rec-worker2")).toBe("active");
    expect(await kubeletState(nodeAnswering(inactive), "volcert-rec-worker2")).toBe("inactive");
  });

  test("asked in the node with systemctl", async () => {
    const shell = nodeAnswering(active);
    await kubeletState(shell, "volcert-rec-worker2");
    expect(shell.calls).toEqual([["volcert-rec-worker2", "systemctl", "is-active", "kubelet"]]);
  });

  test("the wait ends when the wanted state is seen", async () => {
    const shell = nodeAnswering(active, active, inactive);
    await waitKubelet(shell, "volcert-rec-worker2", "inactive", 10_000);
    expect(shell.calls).toHaveLength(3);
  });
});
