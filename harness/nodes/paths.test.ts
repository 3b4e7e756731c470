import { describe, expect, test } from "vitest";
import type { NodeShell } from "../core/nodes.ts";
import { presentPaths } from "./paths.ts";

// The script's output on volcert-rec-worker for /var/lib/kubelet/pods,
// /var/lib/volcert-csi-hostpath/missing and /etc/kubernetes (recorded).
const WORKER = "/var/lib/kubelet/pods\n/etc/kubernetes\n";
const PATHS = ["/var/lib/kubelet/pods", "/var/lib/volcert-csi-hostpath/missing", "/etc/kubernetes"];

function shellWith(out: Record<string, { stdout: string; ok: boolean }>): NodeShell & { argv: string[][] } {
  const argv: string[][] = [];
  return {
    argv,
    nodes: async () => Object.keys(out).sort(),
    commandLine: (node, command) => `on ${node}: ${command}`,
    exec: async (node, a) => {
      argv.push([...a]);
      const r = out[node]!;
      if (!r.ok) throw new Error(`${node} could not be reached`);
      return { command: "", exitCode: 0, signal: null, stderr: "", durationMs: 1, ...r };
    },
  };
}

describe("paths present on the nodes", () => {
  test('"node: path" for every path found, checked in one command per node', async () => {
    const shell = shellWith({
      "volcert-rec-worker": { stdout: WORKER, ok: true },
      "volcert-rec-worker2": { stdout: "", ok: true },
    });
    expect(await presentPaths(shell, PATHS)).toEqual([
      "volcert-rec-worker: /var/lib/kubelet/pods",
      "volcert-rec-worker: /etc/kubernetes",
    ]);
    expect(shell.argv[0]).toEqual(["sh", "-c", 'for p; do [ -e "$p" ] && echo "$p"; done; true', "sh", ...PATHS]);
  });

  test("a node that cannot be asked is an error, never an absent path", async () => {
    const shell = shellWith({ "volcert-rec-worker": { stdout: "", ok: false } });
    await expect(presentPaths(shell, PATHS)).rejects.toThrow(/could not be reached/);
  });

  test("no paths, no commands", async () => {
    const shell = shellWith({ "volcert-rec-worker": { stdout: WORKER, ok: true } });
    expect(await presentPaths(shell, [])).toEqual([]);
    expect(shell.argv).toEqual([]);
  });
});
