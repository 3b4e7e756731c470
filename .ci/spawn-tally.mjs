#!/usr/bin/env node
// Dev tool (not run by CI): what processes a run started, from <run>/spawns.tsv (harness/core/exec.ts).
// Usage: node .ci/spawn-tally.mjs reports/<run>/spawns.tsv [top N]
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node .ci/spawn-tally.mjs <run>/spawns.tsv [top N]");
  process.exit(2);
}
const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
// A command's kind: docker exec → the program run in the node; kubectl → its verb and kind.
const kindOf = (words) => {
  const [cmd, ...a] = words.split(" ");
  const plain = a.filter(
    (w, i) => !w.startsWith("-") && !(a[i - 1] ?? "").match(/^--?(kubeconfig|context|namespace|n|o|output|f)$/),
  );
  if (cmd === "docker" && plain[0] === "exec") {
    const inNode = plain.slice(2).filter((w) => w !== "timeout" && !/^\d+s?$/.test(w) && !w.startsWith("-"));
    return `docker exec … ${inNode[0] ?? "?"}`;
  }
  if (cmd === "kubectl") return `kubectl ${plain.slice(0, 2).join(" ")}`;
  return `${cmd} ${plain[0] ?? ""}`.trim();
};
const by = new Map();
let total = 0;
let first = Infinity;
let last = 0;
for (const l of lines) {
  const [start, dur, , words] = l.split("\t");
  const k = kindOf(words ?? "");
  const e = by.get(k) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += Number(dur);
  by.set(k, e);
  total++;
  first = Math.min(first, Number(start));
  last = Math.max(last, Number(start) + Number(dur));
}
const rows = [...by.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, Number(topArg ?? 25));
console.log(
  `${total} commands over ${((last - first) / 60000).toFixed(1)} min (${(total / ((last - first) / 1000)).toFixed(1)}/s)`,
);
for (const [k, e] of rows) console.log(`${String(e.n).padStart(6)}  ${(e.ms / 1000).toFixed(0).padStart(6)} s  ${k}`);
