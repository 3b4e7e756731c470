/** Vitest's file sequencer for volcert's projects: heaviest e2e suites first (e2e-schedule.ts). */
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { heaviestFirst } from "./e2e-schedule.ts";

/** Vitest's own order (failed and slow files first, from its cache), then heaviest suites first. */
export class HeaviestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return heaviestFirst(await super.sort(files));
  }
}
