import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CAPABILITY_NAMES, missingCapabilities, parseCapBnd } from "./capabilities.ts";

const recorded = readFileSync(new URL("../../fixtures/recorded/proc-self-status-capbnd.txt", import.meta.url), "utf8");

describe("capability shim decision", () => {
  test("reads CapBnd from a real /proc/self/status", () => {
    expect(parseCapBnd(recorded)).toBe(0x1fffeffffffn);
  });

  test("the recorded CI machine lacks exactly CAP_SYS_RESOURCE (bit 24)", () => {
    expect(missingCapabilities(parseCapBnd(recorded), 40)).toEqual(["CAP_SYS_RESOURCE"]);
  });

  test("a full bounding set needs no shim", () => {
    expect(missingCapabilities(0x1ffffffffffn, 40)).toEqual([]);
  });

  test("only capabilities the kernel knows (cap_last_cap) are considered", () => {
    // Kernel knowing caps 0..37 only: bits 38..40 being clear is not a problem.
    expect(missingCapabilities(0x3fffffffffn, 37)).toEqual([]);
    expect(missingCapabilities(0n, 2)).toEqual(CAPABILITY_NAMES.slice(0, 3));
  });

  test("a status without CapBnd is an error", () => {
    expect(() => parseCapBnd("Name: x\n")).toThrow(/CapBnd/);
  });
});
