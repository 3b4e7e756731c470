import { describe, expect, test } from "vitest";
import { currentSignal } from "../core/abort.ts";
import { DriverDefect, InfraError } from "../core/errors.ts";
import { DisposalFailed } from "../core/disposal.ts";
import { executeCase, type CasePhases } from "./execute.ts";

type Log = string[];

function phases(log: Log, over: Partial<CasePhases<string>> = {}): CasePhases<string> {
  return {
    precheck: async () => void log.push("precheck"),
    acquire: async (stack) => {
      log.push("acquire");
      stack.defer("namespace", async () => void log.push("dispose namespace"));
      return "ctx";
    },
    run: async () => void log.push("run"),
    evidence: async (f) => void log.push(`evidence: ${f instanceof Error ? f.message.split("\n")[0] : String(f)}`),
    heal: async () => (log.push("heal"), null),
    keepRecord: async () => void log.push("keep record"),
    leaks: async () => (log.push("leak check"), []),
    report: async (name, text) => void log.push(`report ${name}: ${text.split("\n")[0]}`),
    ...over,
  };
}

const opts = (policy: "dispose" | "keep" = "dispose") => ({
  caseId: "XX-01",
  policy,
  bodySignal: new AbortController().signal,
  cleanupSignal: new AbortController().signal,
});

describe("case lifecycle", () => {
  test("a passing case runs every phase in order, with no evidence", async () => {
    const log: Log = [];
    await executeCase(phases(log), opts());
    expect(log).toEqual(["precheck", "acquire", "run", "heal", "dispose namespace", "leak check"]);
  });

  test("a failing body: evidence, heal and dispose still run, and the body's error is the verdict", async () => {
    const log: Log = [];
    const boom = new DriverDefect("claim never bound");
    const err = await executeCase(
      phases(log, {
        run: async () => {
          throw boom;
        },
        heal: async () => new InfraError("node worker2 not Ready"),
      }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(log).toEqual([
      "precheck",
      "acquire",
      "evidence: claim never bound",
      "dispose namespace",
      "report cleanup after the failure also failed: node worker2 not Ready",
    ]);
  });

  test("a failed disposal fails a passing case with every failure listed, blamed on its owner", async () => {
    const log: Log = [];
    const err = await executeCase(
      phases(log, {
        acquire: async (stack) => {
          stack.defer("namespace", async () => {
            throw new DriverDefect("namespace deleted: not done after 120s");
          });
          stack.defer("storage class", async () => {
            throw new InfraError("API server unreachable");
          });
          return "ctx";
        },
      }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DisposalFailed);
    expect((err as DisposalFailed).category).toBe("driver");
    expect((err as Error).message).toMatch(/storage class: API server unreachable[\s\S]*namespace: namespace deleted/);
    expect(log).not.toContain("leak check");
  });

  test("a fault that could not be healed fails the case as infrastructure", async () => {
    const err = await executeCase(
      phases([], { heal: async () => new InfraError("could not be healed") }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
  });

  test("a leak fails the case as the driver's, with evidence", async () => {
    const log: Log = [];
    const err = await executeCase(
      phases(log, { leaks: async () => ["worker: mount of pod 1234 left behind"] }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
    expect((err as Error).message).toMatch(/^leak check failed after XX-01:\n {2}- worker: mount of pod 1234/);
    expect(log.slice(-2)).toEqual([
      "report leaks: worker: mount of pod 1234 left behind",
      "evidence: leak check failed after XX-01:",
    ]);
  });

  test("repro's keep policy records the case and disposes and leak-checks nothing", async () => {
    const log: Log = [];
    await executeCase(phases(log), opts("keep"));
    expect(log).toEqual(["precheck", "acquire", "run", "heal", "keep record"]);
  });

  test("a failed precheck creates nothing", async () => {
    const log: Log = [];
    const err = await executeCase(
      phases(log, {
        precheck: async () => {
          throw new InfraError("cluster unhealthy before XX-01");
        },
      }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect(log).not.toContain("acquire");
  });

  test("the body runs under the budget's signal and cleanup under its own", async () => {
    const body = new AbortController();
    const cleanup = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    await executeCase(
      phases([], {
        run: async () => void seen.push(currentSignal()),
        heal: async () => (seen.push(currentSignal()), null),
      }),
      { ...opts(), bodySignal: body.signal, cleanupSignal: cleanup.signal },
    );
    expect(seen).toEqual([body.signal, cleanup.signal]);
  });
});
