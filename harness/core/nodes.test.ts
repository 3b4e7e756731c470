import { describe, expect, test } from "vitest";
import { inNodeTimeout } from "./nodes.ts";

describe("commands in a node end there before the host gives up", () => {
  test("the default 120 s: TERM at 110 s, KILL 5 s later, argv unchanged", () => {
    expect(inNodeTimeout(["sh", "-c", 'echo "$1"', "sh", "a b"], 120_000)).toEqual([
      "timeout",
      "--kill-after=5s",
      "110s",
      "sh",
      "-c",
      'echo "$1"',
      "sh",
      "a b",
    ]);
  });

  test("the node's TERM and KILL both come before the host's timeout", () => {
    for (const ms of [3_000, 5_000, 10_000, 30_000, 60_000, 120_000, 200_000, 600_000]) {
      const [, kill, term] = inNodeTimeout(["true"], ms) as [string, string, string];
      const killAfter = Number(/=(\d+)s$/.exec(kill)?.[1]);
      const seconds = Number(/^(\d+)s$/.exec(term)?.[1]);
      expect(seconds, `${ms} ms`).toBeGreaterThanOrEqual(1);
      expect((seconds + killAfter) * 1000, `${ms} ms`).toBeLessThan(ms);
    }
  });

  test("a timeout too short to leave a margin still bounds the command (1 s, then KILL)", () => {
    expect(inNodeTimeout(["true"], 1_000).slice(0, 3)).toEqual(["timeout", "--kill-after=1s", "1s"]);
  });
});
