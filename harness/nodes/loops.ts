/**
 * Loop devices a case attaches on a node (a local PV on a block device, a filesystem image): a
 * sparse file in the node, attached with losetup, detached and removed when disposed.
 */
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
  await shell.exec(node, ["sh", "-ec", 'mkdir -p "$(dirname "$1")" && truncate -s "$2" "$1"', "sh", file, size]);
  let device: string;
  try {
    device = (await shell.exec(node, ["losetup", "--find", "--show", file])).stdout.trim();
  } catch (err) {
    await shell.exec(node, ["rm", "-f", file], { nothrow: true });
    throw err;
  }
  return {
    node,
    device,
    file,
    async [Symbol.asyncDispose]() {
      await shell.exec(node, ["losetup", "-d", device], { nothrow: true });
      await shell.exec(node, ["rm", "-f", file], { nothrow: true });
    },
  };
}
