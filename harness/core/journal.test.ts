import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { foldJournal, journaled, RunJournal, useJournal } from "./journal.ts";

const cluster = { name: "volcert-a", provider: "kind" as const, kubeconfig: "/k" };

describe("run journal", () => {
  test("an entry is open from before the change until it is closed", () => {
    const file = join(mkdtempSync(join(tmpdir(), "journal-")), "r.jsonl");
    const j = new RunJournal("r", cluster, file);
    const a = j.open(
      "node w1 powered off",
      { kind: "fault", fault: "node-stopped", node: "w1", address: "172.18.0.3" },
      cluster,
    );
    j.open("kind cluster volcert-a created", { kind: "cluster", created: true }, cluster);
    expect(j.openEntries().map((e) => e.what)).toEqual(["node w1 powered off", "kind cluster volcert-a created"]);
    j.close(a);
    expect(j.openEntries().map((e) => e.what)).toEqual(["kind cluster volcert-a created"]);
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(3);
  });

  test("a torn last line (a crash mid-write) and blank lines are ignored", () => {
    const open = (id: string) =>
      JSON.stringify({
        op: "open",
        entry: { id, runId: "r", what: id, at: "", cluster, record: { kind: "cluster", created: true } },
      });
    const text = `${open("a")}\n\n${open("b")}\n{"op":"close","id":"a","at":""}\n{"op":"open","entr`;
    expect(foldJournal(text).map((e) => e.id)).toEqual(["b"]);
  });

  test("journaled writes before making the change, and settle closes it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "journal-")), "r.jsonl");
    const j = new RunJournal("r", cluster, file);
    useJournal(j);
    try {
      let seenDuring: number | undefined;
      const made = await journaled(
        "taint t on w1",
        { kind: "fault", fault: "taint", node: "w1", key: "t" },
        async () => {
          seenDuring = j.openEntries().length;
        },
      );
      expect(seenDuring).toBe(1);
      made.settle();
      expect(j.openEntries()).toEqual([]);
      // A change whose making fails stays recorded: it may have been half made.
      await expect(
        journaled("node w2 paused", { kind: "fault", fault: "node-paused", node: "w2" }, () =>
          Promise.reject(new Error("x")),
        ),
      ).rejects.toThrow("x");
      expect(j.openEntries().map((e) => e.what)).toEqual(["node w2 paused"]);
    } finally {
      useJournal(null);
    }
  });
});
