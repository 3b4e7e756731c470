/**
 * FlexVolume installer: copies the driver executable into every node's kubelet plugin directory
 * (<vendor>~<driver>/<driver>), then waits until `init` answers Success on each node, run in the
 * node exactly as kubelet runs it. (kubelet's dynamic prober calls `init` lazily, on the first
 * volume operation after the directory changed, and logs it only at high verbosity, so its journal
 * cannot be waited on; the first mount in a case is the proof that kubelet accepted the driver.)
 * Uninstall removes it again.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { NodeShell } from "../core/nodes.ts";
import { waitFor } from "../core/wait.ts";
import type { DriverFile } from "./schema.ts";

export const FLEX_PLUGIN_DIR = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec";

export function flexPaths(d: DriverFile): { dir: string; file: string } {
  const [vendor, name] = (d.spec.flexVolume?.driver ?? "/").split("/") as [string, string];
  const dir = `${FLEX_PLUGIN_DIR}/${vendor}~${name}`;
  return { dir, file: `${dir}/${name}` };
}

export async function installFlexVolume(
  d: DriverFile,
  baseDir: string,
  shell: NodeShell,
  timeoutMs = 120_000,
): Promise<void> {
  const flex = d.spec.flexVolume;
  if (!flex) return;
  const { dir, file } = flexPaths(d);
  const executable = await readFile(resolve(baseDir, flex.executable));
  const nodes = await shell.nodes();
  for (const node of nodes) {
    await shell.exec(node, ["mkdir", "-p", dir], { timeoutMs: 30_000 });
    // Written next to its final name and renamed: kubelet's prober never sees a half-written driver.
    await shell.exec(node, ["sh", "-c", 'cat > "$1.tmp" && chmod 0755 "$1.tmp" && mv "$1.tmp" "$1"', "sh", file], {
      input: executable,
      timeoutMs: 60_000,
    });
  }
  for (const node of nodes) {
    await waitFor(
      `FlexVolume driver ${flex.driver} answers init on ${node}`,
      async () => {
        const init = await shell.exec(node, [file, "init"], { nothrow: true, timeoutMs: 30_000 });
        return {
          done: init.ok && init.stdout.includes('"Success"'),
          seen: `exit ${init.exitCode}: ${init.stdout.trim() || init.stderr.trim()}`,
        };
      },
      { timeoutMs, intervalMs: 2000, blame: "driver" },
    );
  }
}

export async function uninstallFlexVolume(d: DriverFile, shell: NodeShell): Promise<void> {
  if (!d.spec.flexVolume) return;
  const { dir } = flexPaths(d);
  for (const node of await shell.nodes())
    await shell.exec(node, ["rm", "-rf", dir], { nothrow: true, timeoutMs: 30_000 });
}
