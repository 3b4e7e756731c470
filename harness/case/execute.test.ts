import { describe, expect, test } from "vitest";
import { currentSignal } from "../core/abort.ts";
import { DriverDefect, InfraError } from "../core/errors.ts";
import { DisposalFailed } from "../core/disposal.ts";
import type { LeakReport } from "../evidence/leak-report.ts";
import { executeCase, type CasePhases } from "./execute.ts";

const clean: LeakReport = { leftovers: [], probeFailures: [], checked: "the API and nodes a, b" };
const leaky: LeakReport = {
  ...clean,
  leftovers: [{ what: "worker: mount of pod 1234 left behind: /var/lib/kubelet/pods/1234/volumes/x", blame: "driver" }],
};
const unprobed: LeakReport = {
  ...clean,
  probeFailures: [
    { probe: "node shell", node: "worker", error: "node is paused, so its mounts ... cannot be checked" },
  ],
};

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
    leakScope: async () => void log.push("leak scope"),
    leaks: async () => (log.push("leak check"), clean),
    report: async (name, text) => void log.push(`report ${name}: ${text.split("\n")[0]}`),
    step: async (name, error) => void log.push(`step ${name}${error ? ` (${error.category})` : ""}`),
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
    expect(log).toEqual([
      "precheck",
      "acquire",
      "run",
      "heal",
      "leak scope",
      "dispose namespace",
      "leak check",
      "report leak check: nothing left behind (checked the API and nodes a, b)",
      "step leak check: clean",
    ]);
  });

  test("phase timings are reported once, in order, for a failed case too", async () => {
    const laps: string[][] = [];
    const err = await executeCase(
      phases([], {
        run: async () => {
          throw new DriverDefect("claim never bound");
        },
      }),
      { ...opts(), onTimings: (l) => void laps.push(l.map(([phase, ms]) => (ms >= 0 ? phase : "negative"))) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
    expect(laps).toEqual([["precheck", "acquire", "body", "evidence", "heal", "leak scope", "dispose", "leak check"]]);
  });

  test("a failing body: evidence, heal, dispose and the leak check still run, and the body's error is the verdict", async () => {
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
      "leak scope",
      "dispose namespace",
      "leak check",
      "report leak check after the failure: nothing left behind (checked the API and nodes a, b)",
      "step leak check after the failure: clean",
      "report cleanup after the failure also failed: node worker2 not Ready",
    ]);
  });

  test("leaks after a failed case are reported as a second, driver-blamed step; the body's error stays the verdict", async () => {
    const log: Log = [];
    const boom = new InfraError("API server unreachable");
    const err = await executeCase(
      phases(log, {
        run: async () => {
          throw boom;
        },
        leaks: async () => leaky,
      }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(log.slice(-2)).toEqual([
      "report leak check after the failure: checked the API and nodes a, b",
      "step leak check after the failure: leaks found (driver)",
    ]);
  });

  test("a leak check that breaks after a failed case is reported, never thrown over the case's error", async () => {
    const log: Log = [];
    const boom = new DriverDefect("claim never bound");
    const err = await executeCase(
      phases(log, {
        run: async () => {
          throw boom;
        },
        leaks: async () => {
          throw new TypeError("cannot read x of undefined");
        },
      }),
      opts(),
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(log).toContain("step leak check after the failure: could not run (harness)");
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
    expect(log).toContain("leak check"); // still runs: what the failed disposal left is worth knowing
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
    const err = await executeCase(phases(log, { leaks: async () => leaky }), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
    expect((err as Error).message).toMatch(/^leak check failed after XX-01:\n {2}- worker: mount of pod 1234/);
    expect(log.slice(-3)).toEqual([
      "report leak check: checked the API and nodes a, b",
      "step leak check: leaks found (driver)",
      "evidence: leak check failed after XX-01:",
    ]);
  });

  test("a leak check that could not look everywhere fails the case as infrastructure, naming the probe and node", async () => {
    const err = await executeCase(phases([], { leaks: async () => unprobed }), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/could not check node shell on node worker: node is paused/);
  });

  test("a driver's leak outranks a probe that failed elsewhere: the driver's, with the probe listed", async () => {
    const both = { ...leaky, probeFailures: unprobed.probeFailures };
    const err = await executeCase(phases([], { leaks: async () => both }), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverDefect);
    expect((err as Error).message).toMatch(
      /mount of pod 1234[\s\S]*also:[\s\S]*could not check node shell on node worker/,
    );
  });

  test("a case that created nothing is not leak-checked", async () => {
    const log: Log = [];
    await executeCase(phases(log, { leaks: async () => (log.push("leak check"), null) }), opts());
    expect(log.filter((l) => l.startsWith("step"))).toEqual([]);
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
