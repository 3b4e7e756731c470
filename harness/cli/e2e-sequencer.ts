/**
 * Vitest's file sequencer for volcert's projects (e2e-schedule.ts): the smoke check, then the
 * longest e2e suites first. Setting a sequencer turns off Vitest's `--sequence.shuffle` of files.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { e2eFileOrder } from "./e2e-schedule.ts";

/** The e2e file order; Vitest's own order (projects, its cache) decides only among equal weights. */
export class E2eFileOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return e2eFileOrder(await super.sort(files));
  }
}
