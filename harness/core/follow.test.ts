import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, vi } from "vitest";
import { followLines } from "./follow.ts";

test("followLines echoes whole lines as they are appended, and the rest when stopped", () => {
  const file = join(mkdtempSync(join(tmpdir(), "follow-")), "out.log");
  const seen: string[] = [];
  vi.useFakeTimers();
  const f = followLines(file, (l) => seen.push(l), 10);
  writeFileSync(file, "one\ntw");
  expect(seen).toEqual([]);
  vi.advanceTimersByTime(10);
  vi.useRealTimers();
  expect(seen).toEqual(["one"]);
  appendFileSync(file, "o\nthree ✔");
  f.stop();
  expect(seen).toEqual(["one", "two", "three ✔"]);
});
