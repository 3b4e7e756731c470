import { describe, expect, test } from "vitest";
import { formatDuration } from "./progress.ts";

describe("durations in progress lines", () => {
  test("milliseconds, seconds, minutes; never '60s'", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(12_340)).toBe("12.3s");
    expect(formatDuration(539_700)).toBe("9m00s");
    expect(formatDuration(61_000)).toBe("1m01s");
  });
});
