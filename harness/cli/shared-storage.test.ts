import { describe, expect, test } from "vitest";
import { SHARED_STORAGE_NODE_PATH } from "../../clusters/kind/state.ts";
import { SHARED_STORAGE_PATH } from "../drivers/schema.ts";

describe("shared storage", () => {
  test("the driver file promises the path where the kind provider mounts it", () => {
    expect(SHARED_STORAGE_PATH).toBe(SHARED_STORAGE_NODE_PATH);
  });
});
