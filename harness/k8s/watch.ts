/**
 * A watch on one collection (a kind in a namespace, or cluster-wide) that hands on every change
 * with the client time it arrived. It lists first and watches from the list's resourceVersion, so
 * nothing that happens between the two is missed. Bounded: the request carries timeoutSeconds, and
 * the watch stops when disposed (`await using`) or when the case's signal aborts.
 *
 * A watch that ends before it is stopped (the server closed it, the connection broke, or the
 * server answered 410 Gone: its resourceVersion is too old) is answered by one re-list, whose items
 * are handed on as "LISTED" events, and a new watch from that list's resourceVersion. A transition
 * first seen in such a list is seen late by up to the gap, and says so (type LISTED). After
 * MAX_RELISTS re-lists, or on any other error (the watch refused, an ERROR event, a failed
 * re-list), the watch stops and `error` says why: a wait on it must end with that error.
 *
 * The transport (list, open a watch) is kube.ts's; this file holds only the logic around it.
 */
import { InfraError } from "../core/errors.ts";

/** An object as the API server sends it: JSON, timestamps as RFC 3339 strings. */
export interface WireObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** The API's watch event types, plus LISTED for an item of a (re-)list. */
export type ReceivedType = "ADDED" | "MODIFIED" | "DELETED" | "LISTED";

export interface ReceivedEvent {
  type: ReceivedType;
  object: WireObject;
  /** Client time (ms since the epoch) the event arrived; for LISTED, when the list's answer did. */
  at: number;
}

export interface WatchTransport {
  list(): Promise<{ resourceVersion: string; items: WireObject[] }>;
  /**
   * Opens a watch from `resourceVersion`. Resolves once the API server accepted it, with a function
   * that stops it; rejects if it could not be opened. `onClose` is called when it ends by itself
   * (with why, or null when the server simply closed it).
   */
  open(
    resourceVersion: string,
    onEvent: (type: string, object: WireObject) => void,
    onClose: (err: unknown) => void,
  ): Promise<() => void>;
}

/** Drops a watch survives (each answered by one re-list and a new watch). */
export const MAX_RELISTS = 3;

export class CollectionWatch implements AsyncDisposable {
  private stopConnection: (() => void) | undefined;
  /** Counts connections, so callbacks of a connection already replaced are ignored. */
  private connection = 0;
  private stopped = false;
  private failure: InfraError | undefined;
  private relistCount = 0;
  private readonly onAbort = () => this.stop();

  constructor(
    /** "Pod in volcert-dp-10-1a2b3c", "VolumeAttachment (all namespaces)" */
    readonly what: string,
    private readonly transport: WatchTransport,
    private readonly onEvent: (e: ReceivedEvent) => void,
    private readonly signal?: AbortSignal,
  ) {}

  /** Lists and opens the watch; resolves once the API server accepted it. */
  async start(): Promise<this> {
    this.signal?.throwIfAborted();
    this.signal?.addEventListener("abort", this.onAbort, { once: true });
    try {
      await this.listAndWatch();
    } catch (err) {
      this.stop();
      throw err;
    }
    return this;
  }

  /** Why the watch failed beyond recovery, if it did. */
  get error(): InfraError | undefined {
    return this.failure;
  }

  /** Drops answered by a re-list so far. */
  get relists(): number {
    return this.relistCount;
  }

  stop(): void {
    this.stopped = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.stopConnection?.();
    this.stopConnection = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
  }

  private async listAndWatch(): Promise<void> {
    const list = await this.transport.list();
    const at = Date.now();
    for (const item of list.items) this.deliver("LISTED", item, at);
    if (this.stopped) return;
    const connection = ++this.connection;
    const stop = await this.transport.open(
      list.resourceVersion,
      (type, object) => {
        if (connection === this.connection) this.receive(type, object);
      },
      (err) => {
        if (connection === this.connection) this.dropped(err === null ? "the server closed it" : message(err));
      },
    );
    if (this.stopped || connection !== this.connection) stop();
    else this.stopConnection = stop;
  }

  private receive(type: string, object: WireObject): void {
    if (this.stopped) return;
    if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
      this.deliver(type, object, Date.now());
      return;
    }
    if (type !== "ERROR") return; // BOOKMARK (not asked for), or a type this client does not know
    const status = object as { code?: unknown; reason?: unknown; message?: unknown };
    const said = `${String(status.code ?? "?")} ${String(status.reason ?? "")}: ${String(status.message ?? "")}`;
    if (status.code === 410) this.dropped(`the server answered ${said}`);
    else this.fail(`the API server ended the watch with an error: ${said}`);
  }

  private dropped(why: string): void {
    if (this.stopped) return;
    this.connection++; // what the old connection still sends is ignored
    this.stopConnection?.();
    this.stopConnection = undefined;
    if (this.relistCount >= MAX_RELISTS) {
      this.fail(`dropped ${MAX_RELISTS + 1} times (last: ${why})`);
      return;
    }
    this.relistCount++;
    this.listAndWatch().catch((err: unknown) =>
      this.fail(`re-list and re-watch after a drop (${why}) failed: ${message(err)}`),
    );
  }

  private deliver(type: ReceivedType, object: WireObject, at: number): void {
    if (this.stopped) return;
    this.onEvent({ type, object, at });
  }

  private fail(why: string): void {
    if (this.stopped) return;
    this.failure = new InfraError(`watch on ${this.what}: ${why}`);
    this.stop();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}
