/**
 * Loop devices a case attaches on a node (a local PV on a block device, a filesystem image): a
 * sparse file in the node, attached with losetup, detached and removed when disposed.
 */
import { journaled } from "../core/journal.ts";
import type { NodeShell } from "../core/nodes.ts";

export interface NodeLoopDevice extends AsyncDisposable {
  node: string;
  device: string;
  file: string;
}

export async function attachLoopFile(
  shell: NodeShell,
  node: string,
  file: string,
  size = "64M",
): Promise<NodeLoopDevice> {
  // In the run's journal before it exists: a run stopped now leaves a record sweep and heal act on.
  const { settle } = await journaled(`loop device on ${node} backed by ${file}`, { kind: "loop", node, file }, () =>
    shell.exec(node, ["sh", "-ec", 'mkdir -p "$(dirname "$1")" && truncate -s "$2" "$1"', "sh", file, size]),
  );
  let device: string;
  try {
    device = (await shell.exec(node, ["losetup", "--find", "--show", file])).stdout.trim();
  } catch (err) {
    await shell.exec(node, ["rm", "-f", file], { nothrow: true });
    settle();
    throw err;
  }
  return {
    node,
    device,
    file,
    async [Symbol.asyncDispose]() {
      const detached = await shell.exec(node, ["losetup", "-d", device], { nothrow: true });
      await shell.exec(node, ["rm", "-f", file], { nothrow: true });
      // A device that did not detach stays in the journal for `cluster heal` and `sweep`.
      if (detached.ok) settle();
    },
  };
}
