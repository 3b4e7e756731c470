import { describe, expect, test } from "vitest";
import { InfraError } from "../core/errors.ts";
import { CollectionWatch, MAX_RELISTS, type ReceivedEvent, type WatchTransport, type WireObject } from "./watch.ts";

/**
 * A transport whose lists and watch connections the test drives by hand: no API server, only the
 * two calls CollectionWatch makes, so its drop and error handling can be checked.
 */
function scriptedTransport(lists: { resourceVersion: string; items: WireObject[] }[]) {
  const opened: { resourceVersion: string; stopped: boolean }[] = [];
  let send: (type: string, object: WireObject) => void = () => undefined;
  let close: (err: unknown) => void = () => undefined;
  let listed = 0;
  const transport: WatchTransport = {
    async list() {
      const l = lists[listed++];
      if (!l) throw new InfraError("list LIST: HTTP 503: unavailable");
      return l;
    },
    async open(resourceVersion, onEvent, onClose) {
      const c = { resourceVersion, stopped: false };
      opened.push(c);
      send = onEvent;
      close = onClose;
      return () => {
        c.stopped = true;
      };
    },
  };
  return { transport, opened, send: (t: string, o: WireObject) => send(t, o), close: (e: unknown) => close(e) };
}

const claim = (name: string, resourceVersion: string, phase: string): WireObject => ({
  kind: "PersistentVolumeClaim",
  apiVersion: "v1",
  metadata: { name, namespace: "ns", resourceVersion },
  status: { phase },
});

/** Lets the re-list (a promise chain started from a callback) run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("a collection watch", () => {
  test("lists, then watches from the list's resourceVersion, handing on items and events with receipt times", async () => {
    const s = scriptedTransport([{ resourceVersion: "100", items: [claim("old", "90", "Bound")] }]);
    const got: ReceivedEvent[] = [];
    const w = await new CollectionWatch("PersistentVolumeClaim in ns", s.transport, (e) => got.push(e)).start();
    expect(s.opened).toEqual([{ resourceVersion: "100", stopped: false }]);
    s.send("ADDED", claim("a", "101", "Pending"));
    s.send("BOOKMARK", { metadata: { resourceVersion: "102" } });
    s.send("MODIFIED", claim("a", "103", "Bound"));
    expect(got.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(["LISTED old", "ADDED a", "MODIFIED a"]);
    expect(got.every((e) => typeof e.at === "number" && e.at > 0)).toBe(true);
    await w[Symbol.asyncDispose]();
    expect(s.opened[0]?.stopped).toBe(true);
    s.send("MODIFIED", claim("a", "104", "Lost"));
    expect(got).toHaveLength(3);
  });

  test("a drop is answered by one re-list (items as LISTED) and a watch from the new list's resourceVersion", async () => {
    const s = scriptedTransport([
      { resourceVersion: "100", items: [] },
      { resourceVersion: "250", items: [claim("a", "240", "Bound")] },
    ]);
    const got: ReceivedEvent[] = [];
    const w = await new CollectionWatch("PersistentVolumeClaim in ns", s.transport, (e) => got.push(e)).start();
    s.send("ADDED", claim("a", "101", "Pending"));
    s.close(null);
    await settle();
    expect(w.relists).toBe(1);
    expect(w.error).toBeUndefined();
    expect(s.opened.map((o) => o.resourceVersion)).toEqual(["100", "250"]);
    expect(got.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(["ADDED a", "LISTED a"]);
    expect(got[1]).toMatchObject({ type: "LISTED", object: { status: { phase: "Bound" } } });
    w.stop();
  });

  test("410 Gone is a drop; any other ERROR event fails the watch with the server's words", async () => {
    const s = scriptedTransport([
      { resourceVersion: "1", items: [] },
      { resourceVersion: "2", items: [] },
    ]);
    const w = await new CollectionWatch("Pod in ns", s.transport, () => undefined).start();
    s.send("ERROR", {
      kind: "Status",
      apiVersion: "v1",
      code: 410,
      reason: "Expired",
      message: "too old resource version",
    });
    await settle();
    expect(w.relists).toBe(1);
    expect(w.error).toBeUndefined();
    s.send("ERROR", { kind: "Status", apiVersion: "v1", code: 500, reason: "InternalError", message: "etcd down" });
    expect(w.error).toBeInstanceOf(InfraError);
    expect(w.error?.message).toBe(
      "watch on Pod in ns: the API server ended the watch with an error: 500 InternalError: etcd down",
    );
    expect(s.opened.map((o) => o.stopped)).toEqual([true, true]);
  });

  test(`after ${MAX_RELISTS} re-lists the next drop fails the watch; a failed re-list fails it too`, async () => {
    const lists = Array.from({ length: MAX_RELISTS + 1 }, (_, i) => ({ resourceVersion: String(i), items: [] }));
    const s = scriptedTransport(lists);
    const w = await new CollectionWatch("Pod in ns", s.transport, () => undefined).start();
    for (let i = 0; i < MAX_RELISTS; i++) {
      s.close(new Error("socket hang up"));
      await settle();
    }
    expect(w.error).toBeUndefined();
    s.close(new Error("socket hang up"));
    expect(w.error?.message).toBe(`watch on Pod in ns: dropped ${MAX_RELISTS + 1} times (last: socket hang up)`);

    const t = scriptedTransport([{ resourceVersion: "1", items: [] }]);
    const v = await new CollectionWatch("Pod in ns", t.transport, () => undefined).start();
    t.close(null);
    await settle();
    expect(v.error?.message).toBe(
      "watch on Pod in ns: re-list and re-watch after a drop (the server closed it) failed: list LIST: HTTP 503: unavailable",
    );
  });

  test("stops when its signal aborts, and will not start on an aborted one", async () => {
    const s = scriptedTransport([{ resourceVersion: "1", items: [] }]);
    const ac = new AbortController();
    const got: ReceivedEvent[] = [];
    await new CollectionWatch("Pod in ns", s.transport, (e) => got.push(e), ac.signal).start();
    ac.abort(new Error("case budget spent"));
    expect(s.opened[0]?.stopped).toBe(true);
    s.send("ADDED", claim("a", "2", "Pending"));
    expect(got).toEqual([]);
    await expect(new CollectionWatch("Pod in ns", s.transport, () => undefined, ac.signal).start()).rejects.toThrow(
      "case budget spent",
    );
  });
});
