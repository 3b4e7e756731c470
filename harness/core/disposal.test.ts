import { describe, expect, test } from "vitest";
import { DriverDefect, InfraError } from "./errors.ts";
import { DisposalFailed, DisposalStack } from "./disposal.ts";

const resource = (log: string[], name: string, fail?: Error): AsyncDisposable => ({
  async [Symbol.asyncDispose]() {
    log.push(name);
    if (fail) throw fail;
  },
});

describe("DisposalStack", () => {
  test("disposes in reverse order of acquisition", async () => {
    const log: string[] = [];
    const s = new DisposalStack();
    s.use("namespace", resource(log, "ns"));
    s.use("pv", resource(log, "pv"));
    s.defer("class", async () => void log.push("sc"));
    expect(await s.dispose()).toEqual([]);
    expect(log).toEqual(["sc", "pv", "ns"]);
  });

  test("a failed disposal does not stop the others, and every failure is returned", async () => {
    const log: string[] = [];
    const s = new DisposalStack();
    s.use("namespace", resource(log, "ns", new DriverDefect("namespace x deleted: not done after 120s")));
    s.use("pv", resource(log, "pv", new InfraError("API server unreachable")));
    s.use("class", resource(log, "sc"));
    const failures = await s.dispose();
    expect(log).toEqual(["sc", "pv", "ns"]);
    expect(failures.map((f) => f.name)).toEqual(["pv", "namespace"]);
    const err = new DisposalFailed(failures);
    expect(err.category).toBe("driver");
    expect(err.message).toContain("namespace: namespace x deleted: not done after 120s");
    expect(err.message).toContain("pv: API server unreachable");
  });

  test("the keep policy disposes nothing (repro mode)", async () => {
    const log: string[] = [];
    const s = new DisposalStack();
    s.use("namespace", resource(log, "ns"));
    expect(await s.dispose("keep")).toEqual([]);
    expect(log).toEqual([]);
  });

  test("nothing can be registered after disposal", async () => {
    const s = new DisposalStack();
    await s.dispose();
    expect(() => s.defer("late", async () => undefined)).toThrow(/already disposed/);
  });
});
