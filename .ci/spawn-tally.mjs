#!/usr/bin/env node
// Dev tool (not run by CI): what processes a run started, and its node-session commands, pod
// execs and API requests, from <run>/spawns.tsv (harness/core/exec.ts).
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
  const program = (words) => words.filter((w) => w !== "timeout" && !/^\d+s?$/.test(w) && !w.startsWith("-"))[0] ?? "?";
  if (cmd === "docker" && plain[0] === "exec") return `docker exec … ${program(plain.slice(2))}`;
  // Not processes: a command sent to a node's long-lived shell, one run in a pod through the API,
  // an API request (harness/core/exec.ts tallyCommand).
  if (cmd === "node-session") return `node session … ${program(a.slice(1))}`;
  if (cmd === "pod-exec") return "pod exec (API)";
  if (cmd === "api") return `api ${a.join(" ")}`;
  if (cmd === "kubectl") return `kubectl ${plain.slice(0, 2).join(" ")}`;
  return `${cmd} ${plain[0] ?? ""}`.trim();
};
const by = new Map();
let total = 0;
let processes = 0;
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
  if (!/^(node-session|pod-exec|api) /.test(words ?? "")) processes++;
  first = Math.min(first, Number(start));
  last = Math.max(last, Number(start) + Number(dur));
}
const rows = [...by.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, Number(topArg ?? 25));
console.log(
  `${total} commands over ${((last - first) / 60000).toFixed(1)} min (${(total / ((last - first) / 1000)).toFixed(1)}/s), ` +
    `${processes} of them processes started`,
);
for (const [k, e] of rows) console.log(`${String(e.n).padStart(6)}  ${(e.ms / 1000).toFixed(0).padStart(6)} s  ${k}`);
