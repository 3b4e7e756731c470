/**
 * The abort signal of the case in progress, found without threading it through every call: the
 * case runtime runs each case body inside `withSignal`, and `waitFor` and `exec` use
 * `currentSignal()` when no signal is given. So when Vitest times a case out, its waits and
 * commands stop before the next case starts (cases run concurrently, hence AsyncLocalStorage
 * rather than a global).
 */
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<AbortSignal>();

export function withSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return storage.run(signal, fn);
}

export function currentSignal(): AbortSignal | undefined {
  return storage.getStore();
}

const never = new AbortController().signal;

/**
 * Cleanup that must run even though the ambient signal is aborted (the assembly container of an
 * interrupted build, a half-injected fault): its commands and waits keep their own time limits.
 */
export function unstoppable<T>(fn: () => Promise<T>): Promise<T> {
  return storage.run(never, fn);
}

/** The explicit signal if given, else the current case's, else none. */
export function effectiveSignal(explicit?: AbortSignal): AbortSignal | undefined {
  const ambient = currentSignal();
  if (explicit && ambient && explicit !== ambient) return AbortSignal.any([explicit, ambient]);
  return explicit ?? ambient;
}
