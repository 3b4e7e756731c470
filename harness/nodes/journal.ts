/** The tail of a systemd unit's journal on a node (evidence). */
import type { NodeShell } from "../core/nodes.ts";

export async function journalTail(shell: NodeShell, node: string, unit = "kubelet", lines = 150): Promise<string> {
  const r = await shell.exec(node, ["journalctl", "-u", unit, "--no-pager", "-n", String(lines)], {
    timeoutMs: 30_000,
  });
  return r.stdout;
}
