import { buildImages, stepKeys } from "../../clusters/images/build.ts";
import { cachePaths, isComplete } from "../../clusters/images/cache.ts";
import { imageKey } from "../../clusters/images/docker-images.ts";
import { loadManifest } from "../../clusters/images/manifest.ts";
import { buildPlan } from "../../clusters/images/plan.ts";
import { ensureEngine } from "./host.ts";
import { stoppable } from "../core/interrupt.ts";
import { formatDuration, step } from "../core/progress.ts";

export async function imagesBuild(targets: string[]): Promise<void> {
  await stoppable("the image build", () => build(targets));
}

async function build(targets: string[]): Promise<void> {
  const manifest = loadManifest();
  await step("Docker engine", ensureEngine);
  const report = await buildImages(manifest, { targets });
  const built = report.steps.filter((s) => !s.cached);
  console.log(
    `${built.length} steps built, ${report.steps.length - built.length} cached, total ${formatDuration(report.totalMs)}`,
  );
  console.log(`step timings: ${report.reportFile}`);
}

export async function imagesList(): Promise<void> {
  const manifest = loadManifest();
  await ensureEngine();
  const plan = buildPlan(manifest);
  const keys = stepKeys(plan);
  for (const s of plan) {
    const key = keys.get(s.id) as string;
    let state: string;
    if (s.images.length) {
      const got = await Promise.all(s.images.map(imageKey));
      state = got.every((k) => k === key) ? "built" : got.some((k) => k !== null) ? "stale" : "missing";
    } else {
      state = isComplete(cachePaths.out(s.id, key)) ? "built" : "missing";
    }
    const what = s.images.join(", ") || cachePaths.out(s.id, key);
    console.log(
      `${state.padEnd(8)} ${s.id.padEnd(22)} ${what}${s.onDemand ? " (built on demand: by a run whose drivers need it)" : ""}`,
    );
  }
}
