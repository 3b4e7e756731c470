/**
 * The Vitest child of a volcert run: runs the projects in-process and writes the outcome where
 * the CLI reads it. It is its own process group's leader, so the CLI's SIGINT reaches it and its
 * workers together; it ignores the signal itself (the workers stop their cases and Vitest ends
 * normally). When the CLI dies (kill -9), the IPC channel closes and the child stops its workers
 * the same way, so cases heal their faults even then.
 */
import { readFile, writeFile } from "node:fs/promises";
import { markStopped } from "../core/interrupt.ts";
import { runVitestInProcess, type ChildSpec } from "./vitest-runner.ts";

export async function childMain(specFile: string): Promise<number> {
  const { spec, outcomeFile } = JSON.parse(await readFile(specFile, "utf8")) as ChildSpec;
  const ignore = () => undefined;
  process.on("SIGINT", ignore);
  process.on("SIGTERM", ignore);
  const onParentGone = () => {
    if (spec.context) markStopped(spec.context.stopFile, "volcert's CLI died");
    try {
      process.kill(-process.pid, "SIGINT");
    } catch {
      // not a group leader (started by hand): nothing else to stop
    }
  };
  process.once("disconnect", onParentGone);
  const outcome = await runVitestInProcess(spec);
  await writeFile(outcomeFile, JSON.stringify(outcome));
  // Our own disconnect below fires the event too: it is not the CLI dying.
  process.off("disconnect", onParentGone);
  process.disconnect?.();
  return 0;
}
