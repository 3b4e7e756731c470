/**
 * Named, bounded waits. Every wait says what it waits for, whom its timeout blames, gives up after
 * a limit, and on timeout reports the last state it saw. This is the only place volcert pauses on
 * purpose.
 *
 * Blame: a wait on something the driver must do (a claim binding, a pod mounting its volume, data
 * disappearing) blames the driver; a wait on the cluster or the machine (nodes Ready, Docker up)
 * blames infrastructure. One exception keeps outages from being reported as driver bugs: when the
 * last check could not observe anything (the probe threw an error that is not volcert's own
 * verdict, such as an unreachable API server), the timeout blames infrastructure whatever the wait
 * says; and a probe may say whose its last observation is (Observation.blame: a claim the driver
 * provisioned that the control plane never bound).
 */
import { setTimeout as delay } from "node:timers/promises";
import { effectiveSignal } from "./abort.ts";
import { DriverDefect, InfraError, VolcertError, type Blame } from "./errors.ts";

export interface Observation<T> {
  /** True once the condition holds. */
  done: boolean;
  /** Short human description of what was seen ("phase Pending; last event ProvisioningFailed: ..."). */
  seen: string;
  value?: T;
  /**
   * Whose a timeout would be if this were the last thing seen, when the state itself says so
   * (a claim whose volume exists and only the control plane has yet to bind it): overrides the
   * wait's blame.
   */
  blame?: Blame;
  /**
   * The rest of what there is to say about this observation (the latest event about the object,
   * whose a binding stall is), asked only when the wait ends on it: look-ups that cost an API
   * request or more each (events, every PV) are not repeated on every check. Its `seen` replaces
   * the observation's, its `blame` (if any) overrides it.
   */
  explain?: () => Promise<{ seen: string; blame?: Blame }>;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Whose failure a timeout is. */
  blame: Blame;
  intervalMs?: number;
  /** Defaults to the current case's signal (see abort.ts). */
  signal?: AbortSignal;
}

/** A wait on something the driver must do ran out of time. */
export class DriverWaitTimeout extends DriverDefect {
  constructor(
    message: string,
    readonly wait: string,
  ) {
    super(message);
  }
}

/** A wait on the cluster or the machine ran out of time, or nothing could be observed. */
export class WaitTimeout extends InfraError {
  constructor(
    message: string,
    readonly wait: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by a probe to end the wait at once with `error` (a verdict, not a transient failure to
 * observe): `throw new Verdict(new DriverDefect("pod scheduled elsewhere"))`.
 */
export class Verdict extends Error {
  constructor(readonly error: VolcertError) {
    super(error.message);
  }
}

export async function waitFor<T>(name: string, probe: () => Promise<Observation<T>>, opts: WaitOptions): Promise<T> {
  const signal = effectiveSignal(opts.signal);
  const started = Date.now();
  const interval = opts.intervalMs ?? 1000;
  let last = "nothing observed yet";
  let lastProbeError: unknown;
  let lastBlame: Blame | undefined;
  let lastExplain: Observation<T>["explain"];
  let attempts = 0;
  for (;;) {
    signal?.throwIfAborted();
    attempts++;
    try {
      const o = await probe();
      last = o.seen;
      lastBlame = o.blame;
      lastExplain = o.explain;
      lastProbeError = undefined;
      if (o.done) return o.value as T;
    } catch (err) {
      if (err instanceof Verdict) throw err.error;
      signal?.throwIfAborted();
      lastProbeError = err;
      lastExplain = undefined;
      last = `probe failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= opts.timeoutMs) {
      if (lastExplain) {
        try {
          const more = await withinMs(lastExplain(), EXPLAIN_TIMEOUT_MS, "the explanation took too long");
          last = more.seen;
          lastBlame = more.blame ?? lastBlame;
        } catch (err) {
          signal?.throwIfAborted();
          // As when the probe itself cannot observe: whose the timeout is could not be told.
          lastProbeError = err;
          last += `; (more could not be observed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)})`;
        }
      }
      const msg = `${name}: not done after ${Math.round(elapsed / 1000)}s (${attempts} checks); last seen: ${last}`;
      throw timeoutError(name, msg, lastBlame ?? opts.blame, lastProbeError);
    }
    await delay(Math.min(interval, opts.timeoutMs - elapsed), undefined, signal ? { signal } : undefined).catch(
      (err: unknown) => {
        signal?.throwIfAborted(); // the abort's own reason, not a generic AbortError
        throw err;
      },
    );
  }
}

/** How long a timed-out wait may spend explaining what it last saw (a request or two). */
const EXPLAIN_TIMEOUT_MS = 15_000;

function withinMs<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${why} (${ms / 1000}s)`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function timeoutError(name: string, msg: string, blame: Blame, lastProbeError: unknown): VolcertError {
  if (lastProbeError instanceof DriverDefect) return new DriverWaitTimeout(msg, name);
  if (lastProbeError !== undefined) {
    return new WaitTimeout(`${msg} (the state could not be observed, so this is not blamed on the driver)`, name);
  }
  return blame === "driver" ? new DriverWaitTimeout(msg, name) : new WaitTimeout(msg, name);
}

export interface Holding {
  /** True while the condition still holds. */
  holds: boolean;
  seen: string;
}

/**
 * "Must stay so for N seconds": probes until `durationMs` has passed and fails (blaming `blame`)
 * as soon as the condition stops holding. A probe that cannot observe is retried; if the window
 * ends without one good observation in its last check, that is infrastructure.
 */
export async function holdsFor(
  name: string,
  probe: () => Promise<Holding>,
  opts: { durationMs: number; blame: Blame; intervalMs?: number; signal?: AbortSignal },
): Promise<string> {
  const until = Date.now() + opts.durationMs;
  let lastSeen = "";
  await waitFor(
    `${name} (for ${Math.round(opts.durationMs / 1000)} s)`,
    async () => {
      const h = await probe();
      lastSeen = h.seen;
      if (!h.holds) {
        const msg = `${name}: stopped holding after ${Math.round((opts.durationMs - (until - Date.now())) / 1000)} s: ${h.seen}`;
        throw new Verdict(opts.blame === "driver" ? new DriverDefect(msg) : new InfraError(msg));
      }
      return { done: Date.now() >= until, seen: h.seen };
    },
    {
      timeoutMs: opts.durationMs + 60_000,
      intervalMs: opts.intervalMs ?? 1000,
      blame: "infrastructure",
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
  return lastSeen;
}
