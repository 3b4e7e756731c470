import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "./pattern.ts";

describe("seeded data pattern", () => {
  test("the shell writer (as run in pods) produces exactly the locally computed checksum", async () => {
    const p = newPattern(100_003);
    const file = join(mkdtempSync(join(tmpdir(), "volcert-pattern-")), "f");
    const [cmd, ...args] = writeScript(p, file);
    const written = execFileSync(cmd as string, args, { encoding: "utf8" }).trim();
    const [rcmd, ...rargs] = readChecksumScript(file);
    expect(written).toBe(await expectedChecksum(p));
    expect(execFileSync(rcmd as string, rargs, { encoding: "utf8" }).trim()).toBe(written);
  });

  test("different seeds give different data", async () => {
    expect(await expectedChecksum({ seed: "a", sizeBytes: 4096 })).not.toBe(
      await expectedChecksum({ seed: "b", sizeBytes: 4096 }),
    );
  });
});
