/**
 * At most `size` holders at once (a counting semaphore), first come first served. Waiting for a
 * slot honours the ambient abort signal (harness/core/abort.ts): a stopped run stops waiting.
 */
import { currentSignal } from "./abort.ts";

export class Slots {
  private used = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`slots: size must be a positive integer, got ${size}`);
  }

  /** Whether a holder would have to wait now. */
  get full(): boolean {
    return this.used >= this.size;
  }

  async use<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(currentSignal());
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", abort);
        this.used++;
        resolve();
      };
      const abort = () => {
        const i = this.queue.indexOf(grant);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.queue.push(grant);
    });
  }

  private release(): void {
    this.used--;
    this.queue.shift()?.();
  }
}
