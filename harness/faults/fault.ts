/**
 * A fault is disposable: injecting it returns a handle whose heal() is idempotent and also runs
 * when the case fails (the case runner heals every fault before it deletes anything). Injection
 * and healing are recorded on the case's timeline.
 */
import type { Timeline } from "./timeline.ts";

export interface Fault extends AsyncDisposable {
  readonly name: string;
  readonly healed: boolean;
  heal(): Promise<void>;
}

export async function injectFault(
  timeline: Timeline,
  name: string,
  inject: () => Promise<void>,
  heal: () => Promise<void>,
): Promise<Fault> {
  timeline.mark(`inject: ${name}`);
  let healed = false;
  const fault: Fault = {
    name,
    get healed() {
      return healed;
    },
    async heal() {
      if (healed) return;
      await heal();
      healed = true;
      timeline.mark(`healed: ${name}`);
    },
    [Symbol.asyncDispose]: () => fault.heal(),
  };
  try {
    await inject();
  } catch (err) {
    // A half-injected fault is healed at once; the error says what failed, and if healing failed too.
    await fault.heal().catch((healErr: unknown) => {
      if (err instanceof Error)
        err.message += `\n(healing the half-injected fault also failed: ${healErr instanceof Error ? healErr.message : String(healErr)})`;
    });
    throw err;
  }
  timeline.mark(`injected: ${name}`);
  return fault;
}
