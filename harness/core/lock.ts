/**
 * A lock between volcert processes on one machine (two runs building the same image-cache step
 * would delete each other's half-built output). The lock file holds its owner's lease: a lock
 * whose owner died (Ctrl-C at the wrong moment, kill -9, a reboot) is taken over, never waited on.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "./cache-root.ts";
import { leaseAlive, processStartTime, bootId, type Lease } from "./leases.ts";
import { waitFor } from "./wait.ts";

export function lockFile(name: string): string {
  return join(cacheRoot(), "locks", `${name}.lock`);
}

/** The live owner of a lock, or null when it is free (or its owner is dead). */
export function lockHolder(name: string): Lease | null {
  try {
    const lease = JSON.parse(readFileSync(lockFile(name), "utf8")) as Lease;
    return leaseAlive(lease) ? lease : null;
  } catch {
    return null;
  }
}

export async function withLock<T>(name: string, what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const file = lockFile(name);
  mkdirSync(join(cacheRoot(), "locks"), { recursive: true, mode: 0o700 });
  const mine: Lease = {
    runId: name,
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? "",
    bootId: bootId(),
    startedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(" "),
  };
  await waitFor(
    `${what}: lock ${file}`,
    async () => {
      try {
        writeFileSync(file, JSON.stringify(mine), { flag: "wx", mode: 0o600 });
        return { done: true, seen: "taken" };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const holder = lockHolder(name);
      if (!holder) {
        rmSync(file, { force: true }); // its owner is gone
        return { done: false, seen: "free again (its owner had died)" };
      }
      return { done: false, seen: `held by pid ${holder.pid} since ${holder.startedAt}: ${holder.command}` };
    },
    { timeoutMs, intervalMs: 2000, blame: "infrastructure" },
  );
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
