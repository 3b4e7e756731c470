/**
 * Named, bounded waits. Every wait says what it waits for, gives up after a limit, and on timeout
 * reports the last state it saw. This is the only place volcert pauses on purpose.
 */
import { setTimeout as delay } from "node:timers/promises";
import { InfraError, type VolcertError } from "./errors.ts";

export interface Observation<T> {
  /** True once the condition holds. */
  done: boolean;
  /** Short human description of what was seen ("phase Pending; last event ProvisioningFailed: ..."). */
  seen: string;
  value?: T;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Build the error thrown on timeout (default: InfraError). Lets a caller blame the driver. */
  onTimeout?: (message: string) => VolcertError;
}

export class WaitTimeout extends InfraError {}

export async function waitFor<T>(name: string, probe: () => Promise<Observation<T>>, opts: WaitOptions): Promise<T> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 1000;
  let last = "nothing observed yet";
  let attempts = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    attempts++;
    try {
      const o = await probe();
      last = o.seen;
      if (o.done) return o.value as T;
    } catch (err) {
      last = `probe failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= opts.timeoutMs) {
      const msg = `${name}: not done after ${Math.round(elapsed / 1000)}s (${attempts} checks); last seen: ${last}`;
      throw opts.onTimeout ? opts.onTimeout(msg) : new WaitTimeout(msg);
    }
    await delay(Math.min(interval, opts.timeoutMs - elapsed), undefined, { signal: opts.signal });
  }
}
