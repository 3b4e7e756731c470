import { describe, expect, test } from "vitest";
import { leaseAlive, processStartTime, type Lease } from "./leases.ts";

const lease = (over: Partial<Lease> = {}): Lease => ({
  runId: "r",
  pid: 4242,
  startTime: "1234",
  bootId: "boot-a",
  startedAt: "",
  command: "volcert run",
  ...over,
});

describe("leases", () => {
  const host = (starts: Record<number, string>) => ({
    bootId: "boot-a",
    startTimeOf: (pid: number) => starts[pid] ?? null,
  });

  test("alive while the same process runs on the same boot", () => {
    expect(leaseAlive(lease(), host({ 4242: "1234" }))).toBe(true);
  });
  test("dead when the process is gone, the pid was recycled, or the machine rebooted", () => {
    expect(leaseAlive(lease(), host({}))).toBe(false);
    expect(leaseAlive(lease(), host({ 4242: "9999" }))).toBe(false);
    expect(leaseAlive(lease({ bootId: "boot-b" }), host({ 4242: "1234" }))).toBe(false);
    expect(leaseAlive(null, host({ 4242: "1234" }))).toBe(false);
  });
  test("this process's start time is read from /proc (field 22, after the command name)", () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 7)).toBeNull();
  });
});
