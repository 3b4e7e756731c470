import { describe, expect, test } from "vitest";
import { startPiped } from "../../harness/core/exec.ts";
import { NodeSessions } from "./node-sessions.ts";

// The pool is exercised with local shells standing in for `docker exec -i <node> sh`.
const opts = { timeoutMs: 10_000, display: "test" };

describe("a node's shell sessions", () => {
  test("commands share a few long-lived shells; past the limit a command goes the one-shot way", async () => {
    const started: string[] = [];
    const pool = new NodeSessions(2, (node) => {
      started.push(node);
      return startPiped("sh", []);
    });
    try {
      // Three at once on one node, two sessions: the third is not sent (undefined: one-shot).
      const r = await Promise.all([
        pool.run("n1", ["sh", "-c", "sleep 0.3; echo a"], opts),
        pool.run("n1", ["sh", "-c", "sleep 0.3; echo b"], opts),
        pool.run("n1", ["echo", "c"], opts),
      ]);
      expect(r.map((x) => x?.stdout)).toEqual(["a\n", "b\n", undefined]);
      // One after the other: the idle sessions are reused, none started.
      for (const w of ["x", "y", "z"]) expect((await pool.run("n1", ["echo", w], opts))?.stdout).toBe(`${w}\n`);
      expect(started).toEqual(["n1", "n1"]);
      expect((await pool.run("n2", ["echo", "other node"], opts))?.ok).toBe(true);
      expect(started).toEqual(["n1", "n1", "n2"]);
    } finally {
      pool.forget("n1");
      pool.forget("n2");
    }
  });

  test("a node that gives no shell (stopped, frozen) sends every command the one-shot way", async () => {
    const pool = new NodeSessions(2, () => startPiped("sh", ["-c", "echo 'container is paused' >&2; exit 1"]));
    expect(await pool.run("n1", ["true"], opts)).toBeUndefined();
  });

  test("forgetting a node closes its sessions, even one still starting, and a later command starts afresh", async () => {
    let starts = 0;
    const pool = new NodeSessions(2, () => {
      starts++;
      return startPiped("sh", []);
    });
    const pending = pool.run("n1", ["sh", "-c", "sleep 5; echo late"], opts);
    pool.forget("n1"); // while the session is starting (before the node is frozen, say)
    expect(await pending).toBeUndefined();
    const r = await pool.run("n1", ["echo", "again"], opts);
    expect(r?.stdout).toBe("again\n");
    expect(starts).toBe(2);
    // A command in flight when its node is forgotten ends killed, never as a success.
    const inFlight = pool.run("n1", ["sleep", "5"], opts);
    await new Promise((resolve) => setTimeout(resolve, 100));
    pool.forget("n1");
    expect(await inFlight).toMatchObject({ ok: false, exitCode: null });
  });
});
