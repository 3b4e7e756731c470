/** Whether paths exist on the nodes: volume data a driver must have written, or must have deleted. */
import type { NodeShell } from "../core/nodes.ts";

/** The paths that exist on one node. Throws if the node cannot be reached: "absent" must be observed. */
export async function existingPaths(shell: NodeShell, node: string, paths: readonly string[]): Promise<string[]> {
  if (!paths.length) return [];
  const r = await shell.exec(node, ["sh", "-c", 'for p; do [ -e "$p" ] && echo "$p"; done; true', "sh", ...paths], {
    timeoutMs: 30_000,
  });
  return r.stdout.split("\n").filter(Boolean);
}

/** "node: path" for every node where one of the paths exists. */
export async function presentPaths(shell: NodeShell, paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  if (!paths.length) return found;
  for (const node of await shell.nodes())
    for (const p of await existingPaths(shell, node, paths)) found.push(`${node}: ${p}`);
  return found;
}
