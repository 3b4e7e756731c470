/** The kubelet of a node, as systemd sees it: state, start/stop/restart, and a named wait for a state. */
import type { NodeShell } from "../core/nodes.ts";
import { waitFor } from "../core/wait.ts";

/** `systemctl is-active kubelet`: "active", "inactive", "activating", "failed"... ("unknown" if nothing was printed). */
export async function kubeletState(shell: NodeShell, node: string): Promise<string> {
  const r = await shell.exec(node, ["systemctl", "is-active", "kubelet"], { nothrow: true, timeoutMs: 120_000 });
  return r.stdout.trim() || "unknown";
}

export async function kubeletAction(
  shell: NodeShell,
  node: string,
  action: "start" | "stop" | "restart",
): Promise<void> {
  await shell.exec(node, ["systemctl", action, "kubelet"], { timeoutMs: 120_000 });
}

export async function waitKubelet(
  shell: NodeShell,
  node: string,
  want: "active" | "inactive",
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    `kubelet on ${node} ${want}`,
    async () => {
      const s = await kubeletState(shell, node);
      return { done: s === want, seen: s };
    },
    { timeoutMs, intervalMs: 500, blame: "infrastructure" },
  );
}
