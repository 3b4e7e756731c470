import { describe, expect, test } from "vitest";
import { withSignal } from "./abort.ts";
import { CommandError, exec } from "./exec.ts";

describe("exec", () => {
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
