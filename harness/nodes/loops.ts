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

/**
 * `losetup --find --show` fails with "No such file or directory" once the host has more loop
 * devices than existed when the node container started (other clusters and runs on the engine
 * use them too): the kernel allocates /dev/loopN, but the container's /dev has no node for it.
 * So: take the free device's name, make its node if missing, attach; another attacher may take
 * the same device meanwhile, so a few attempts (the last one's error is the one reported).
 */
const ATTACH_SCRIPT = `
for attempt in 1 2 3 4 5; do
  dev=$(losetup --find)
  [ -b "$dev" ] || mknod "$dev" b 7 "\${dev#/dev/loop}" 2>/dev/null || [ -b "$dev" ]
  if [ "$attempt" = 5 ]; then losetup "$dev" "$1"; echo "$dev"; exit 0; fi
  if losetup "$dev" "$1" 2>/dev/null; then echo "$dev"; exit 0; fi
done`;

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
    device = (await shell.exec(node, ["sh", "-ec", ATTACH_SCRIPT, "sh", file])).stdout.trim();
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
