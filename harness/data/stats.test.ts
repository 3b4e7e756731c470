import { describe, expect, test } from "vitest";
import { distribution, percentile } from "./stats.ts";

describe("percentiles", () => {
  test("nearest-rank p50/p95 over small samples", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(distribution([900, 100, 500])).toMatchObject({ samples: [100, 500, 900], p50: 500, p95: 900, max: 900 });
    expect(percentile([], 50)).toBeNaN();
  });
});
