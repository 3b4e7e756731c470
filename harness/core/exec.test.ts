import { describe, expect, test } from "vitest";
import { withSignal } from "./abort.ts";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommandError, exec, shellEnv } from "./exec.ts";

describe("exec", () => {
  test("no shell startup file runs: a ~/.bashrc or BASH_ENV neither costs time nor writes to a command's output", async () => {
    const home = await mkdtemp(join(tmpdir(), "volcert-exec-home-"));
    try {
      const rc = join(home, ".bashrc");
      await writeFile(rc, "echo from-bashrc >&2\n");
      // As under npm: SHLVL=0, so bash with a socket for stdin would read ~/.bashrc (and BASH_ENV).
      const r = await exec("sh", ["-c", "echo ok"], { env: { HOME: home, SHLVL: "0", BASH_ENV: rc } });
      expect([r.stdout, r.stderr]).toEqual(["ok\n", ""]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
    expect(shellEnv({ SHLVL: "3", BASH_ENV: "/x", A: "b" })).toEqual({ SHLVL: "3", A: "b" });
    expect(shellEnv({})).toEqual({ SHLVL: "1" });
  });

  test("a failed command is a CommandError with the command line, exit code and stderr", async () => {
    const err = await exec("sh", ["-c", "echo boom >&2; exit 3"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).result.exitCode).toBe(3);
    expect((err as Error).message).toMatch(/exited 3 after .*: sh -c 'echo boom >&2; exit 3'\n {4}boom/);
  });

  test("the current case's abort signal kills the process and the abort reason is thrown", async () => {
    const ac = new AbortController();
    const started = Date.now();
    const pending = withSignal(ac.signal, () => exec("sleep", ["30"]));
    setTimeout(() => ac.abort(new Error("case budget spent")), 50);
    await expect(pending).rejects.toThrow("case budget spent");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
