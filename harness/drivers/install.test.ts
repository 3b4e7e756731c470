import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { withSignal } from "../core/abort.ts";
import type { ExecResult } from "../core/exec.ts";
import type { NodeShell } from "../core/nodes.ts";
import type { Kube } from "../k8s/kube.ts";
import { DRIVERS_DIR, loadFixture } from "./fixtures.ts";
import { installDrivers, InstallStopped } from "./install.ts";

/** Records what the installer runs on each node; `onInit` is called when it asks a driver for `init`. */
function recordingShell(onInit: () => void): NodeShell & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    nodes: () => Promise.resolve(["n1", "n2"]),
    exec: (node, argv) => {
      ran.push(`${node}: ${argv.join(" ")}`);
      if (argv.at(-1) === "init") onInit();
      const ok: ExecResult = {
        command: argv.join(" "),
        ok: true,
        exitCode: 0,
        signal: null,
        stdout: '{"status":"Success"}',
        stderr: "",
        durationMs: 1,
      };
      return Promise.resolve(ok);
    },
    commandLine: () => "",
  };
}

describe("installDrivers stopped in the middle (Ctrl-C during install)", () => {
  test("the interrupted driver's partial install is handed back for removal, not reported as its failure", async () => {
    const flex = (await loadFixture(join(DRIVERS_DIR, "flex-loop", "driver.yaml"))).definition;
    const stop = new AbortController();
    const shell = recordingShell(() => stop.abort(new Error("SIGINT received")));
    const failures: string[] = [];
    const err = await withSignal(stop.signal, () =>
      installDrivers([{ definition: flex, baseDir: join(DRIVERS_DIR, "flex-loop") }], {
        kube: {} as Kube,
        nodes: shell,
        loadImages: () => Promise.resolve(),
        onFailure: (d) => Promise.resolve(void failures.push(d.metadata.name)),
      }),
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InstallStopped);
    expect(failures).toEqual([]);
    const installed = (err as InstallStopped).installed;
    expect(installed.drivers.map((d) => d.metadata.name)).toEqual(["flex-loop"]);
    // The executable was copied to both nodes before the stop; disposing removes it from both.
    shell.ran.length = 0;
    await installed[Symbol.asyncDispose]();
    expect(shell.ran.filter((c) => c.includes("rm -rf"))).toEqual([
      expect.stringMatching(/^n1: rm -rf .*volcert~loop$/),
      expect.stringMatching(/^n2: rm -rf .*volcert~loop$/),
    ]);
  });
});
