/**
 * A fault is disposable: injecting it returns a handle whose heal() is idempotent and also runs
 * when the case fails (the case runner heals every fault before it deletes anything). Injection
 * and healing are recorded on the case's timeline, and in the run's journal (written before the
 * fault is injected, cleared when it is healed), so a run stopped in the middle of a fault leaves
 * a record `volcert cluster heal` can restore from (harness/faults/restore.ts).
 */
import { unstoppable } from "../core/abort.ts";
import { currentJournal, type FaultRecord } from "../core/journal.ts";
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
  record: FaultRecord,
): Promise<Fault> {
  timeline.mark(`inject: ${name}`);
  let healed = false;
  // Recorded before it is made, cleared once healed (a half-injected fault included).
  const journal = currentJournal();
  const entry = journal?.cluster ? journal.open(name, record, journal.cluster) : null;
  const settle = () => {
    if (journal && entry) journal.close(entry);
  };
  const fault: Fault = {
    name,
    get healed() {
      return healed;
    },
    async heal() {
      if (healed) return;
      await heal();
      healed = true;
      settle();
      timeline.mark(`healed: ${name}`);
    },
    [Symbol.asyncDispose]: () => fault.heal(),
  };
  try {
    await inject();
  } catch (err) {
    // A half-injected fault is healed at once (even when the case was stopped: that is how it
    // failed); the error says what failed, and if healing failed too.
    await unstoppable(() => fault.heal()).catch((healErr: unknown) => {
      if (err instanceof Error)
        err.message += `\n(healing the half-injected fault also failed: ${healErr instanceof Error ? healErr.message : String(healErr)})`;
    });
    throw err;
  }
  timeline.mark(`injected: ${name}`);
  return fault;
}
