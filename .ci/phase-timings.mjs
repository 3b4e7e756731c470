#!/usr/bin/env node
// Where a run's case time goes (docs/benchmarks.md; not run by CI): reads the "phase timings"
// attachments of an Allure results directory and prints, per phase, the count, median, p90 and
// sum, then the slowest cases. usage: .ci/phase-timings.mjs <allure-results dir> [slowest N]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const top = Number(process.argv[3] ?? 15);
if (!dir) {
  console.error("usage: .ci/phase-timings.mjs <allure-results dir> [slowest N]");
  process.exit(2);
}
const phases = new Map();
const cases = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith("-result.json"))) {
  const r = JSON.parse(readFileSync(join(dir, f), "utf8"));
  // allure-vitest keeps an attachment in a step of its own
  const a = attachments(r).find((x) => x.name === "phase timings");
  if (!a) continue;
  const laps = readFileSync(join(dir, a.source), "utf8")
    .split("\n")
    .map((l) => l.split("\t"))
    .map(([p, ms]) => [p, Number.parseInt(ms, 10)]);
  for (const [p, ms] of laps) phases.set(p, [...(phases.get(p) ?? []), ms]);
  cases.push({ name: r.name, status: r.status, ms: r.stop - r.start, laps });
}
function attachments(node) {
  return [...(node.attachments ?? []), ...(node.steps ?? []).flatMap(attachments)];
}
const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * f))];
console.log(`${cases.length} cases with phase timings in ${dir}`);
console.log("phase\tcases\tmedian_ms\tp90_ms\tsum_s");
for (const [p, xs] of phases)
  console.log(`${p}\t${xs.length}\t${q(xs, 0.5)}\t${q(xs, 0.9)}\t${Math.round(xs.reduce((a, b) => a + b, 0) / 1000)}`);
console.log(`\nslowest ${top}:`);
for (const c of cases.sort((a, b) => b.ms - a.ms).slice(0, top))
  console.log(
    `${Math.round(c.ms / 1000)}s\t${c.status}\t${c.name}\t${c.laps.map(([p, ms]) => `${p}=${ms}`).join(" ")}`,
  );
