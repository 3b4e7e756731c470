import { describe, expect, test } from "vitest";
import { startPiped } from "./exec.ts";
import { FrameReader, requestScript, ShellSession } from "./shell-session.ts";

// The protocol is spoken to a real local `sh` here; on kind the same shell runs in a node.
const open = async (cmd = "sh", args: string[] = []) => {
  const s = await ShellSession.open(() => startPiped(cmd, args), 10_000);
  if (!s) throw new Error("no session");
  return s;
};
const run = (s: ShellSession, argv: string[], extra: { input?: string | Buffer; timeoutMs?: number } = {}) =>
  s.run(argv, { timeoutMs: extra.timeoutMs ?? 10_000, display: argv.join(" "), ...extra });

describe("a long-lived shell session", () => {
  test("runs commands one after another with their own exit code, stdout and stderr, and no state carried over", async () => {
    const s = await open();
    try {
      const a = await run(s, ["sh", "-c", "cd /tmp; X=1; echo out; echo err >&2; exit 3"]);
      expect(a).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n", ok: false, signal: null });
      const b = await run(s, ["sh", "-c", 'pwd; echo "x=${X:-unset}"']);
      expect(b).toMatchObject({ exitCode: 0, stderr: "", ok: true });
      expect(b.stdout).toMatch(/x=unset\n$/);
      expect(b.stdout).not.toMatch(/^\/tmp\n/);
      // Output without a final newline, empty output, and words that need quoting.
      expect((await run(s, ["printf", "%s|", "a b", "it's", "$HOME"])).stdout).toBe("a b|it's|$HOME|");
      expect(await run(s, ["true"])).toMatchObject({ stdout: "", stderr: "", ok: true });
    } finally {
      s.close();
    }
  });

  test("input reaches the command byte for byte, and a command never reads the session's own stdin", async () => {
    const s = await open();
    try {
      const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0x40, ...Buffer.from("@VOLCERT_INPUT_END\nv 9 rm -rf /\n")]);
      const r = await run(s, ["od", "-An", "-tx1", "-v"], { input: bytes });
      expect(r.stdout.split(/\s+/).filter(Boolean).join("")).toBe(bytes.toString("hex"));
      // No input: stdin is empty (not the next request), and the following command still runs.
      expect((await run(s, ["cat"])).stdout).toBe("");
      expect((await run(s, ["echo", "next"])).stdout).toBe("next\n");
      // Large output is framed whole.
      const big = await run(s, ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; echo done >&2"]);
      expect([big.stdout.length, big.stderr]).toEqual([300_000, "done\n"]);
    } finally {
      s.close();
    }
  });

  test("a command past its timeout is killed with the session, which takes no more commands", async () => {
    const s = await open();
    const r = await run(s, ["sleep", "30"], { timeoutMs: 300 });
    expect(r).toMatchObject({ exitCode: null, signal: "SIGTERM", ok: false });
    expect(s.dead).toBe(true);
    expect(() => run(s, ["true"])).toThrow(/busy or closed/);
  });

  test("an aborted case kills the session and the abort reason is thrown", async () => {
    const s = await open();
    const ac = new AbortController();
    const pending = s.run(["sleep", "30"], { timeoutMs: 10_000, display: "sleep 30", signal: ac.signal });
    setTimeout(() => ac.abort(new Error("case budget spent")), 50);
    await expect(pending).rejects.toThrow("case budget spent");
    expect(s.dead).toBe(true);
  });

  test("a shell that ends mid-command never reads as a success", async () => {
    const s = await open();
    const r = await run(s, ["sh", "-c", "kill -9 $PPID; sleep 5"]);
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/session ended before the command finished/);
    expect(s.dead).toBe(true);
  });

  test("a shell that cannot start gives no session (the caller runs the command the one-shot way)", async () => {
    expect(await ShellSession.open(() => startPiped("sh", ["-c", "echo no such node >&2; exit 1"]), 5000)).toBe(
      undefined,
    );
    expect(await ShellSession.open(() => startPiped("/nonexistent/docker", []), 5000)).toBe(undefined);
  });
});

describe("frames on the session's stdout", () => {
  test("split anywhere, they come out whole; anything else is refused", () => {
    const r = new FrameReader();
    const wire = Buffer.from("@volcert ready\n@volcert 1 0 3 2\nabcde@volcert 2 1 0 0\n");
    const frames = [...wire].flatMap((b) => r.push(Buffer.from([b])));
    expect(frames.map((f) => [f.seq, f.exitCode, f.stdout.toString(), f.stderr.toString()])).toEqual([
      [1, 0, "abc", "de"],
      [2, 1, "", ""],
    ]);
    expect(() => new FrameReader().push(Buffer.from("@volcert 1 0 0 0\n"))).toThrow(/not a frame header/);
    const ready = new FrameReader();
    ready.push(Buffer.from("@volcert ready\n"));
    expect(() => ready.push(Buffer.from("bash: oops\n"))).toThrow(/not a frame header/);
  });

  test("a request quotes every word and sends input as base64 ending in a line of its own", () => {
    expect(requestScript(4, ["sh", "-c", "echo 'a b'"])).toBe(`v 4 sh -c 'echo '\\''a b'\\'''\n`);
    expect(requestScript(5, ["cat"], "hi")).toBe(
      `base64 -d >"$d/i" <<'@VOLCERT_INPUT_END'\naGk=\n@VOLCERT_INPUT_END\nv 5 cat\n`,
    );
  });
});
