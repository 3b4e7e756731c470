/**
 * How a self-test decides that a suite caught a broken driver: the case must fail, the failure
 * must be the driver's (a driver wait that timed out, a failed assertion, a leak), and it must
 * say the specific thing that proves the defect. An API outage or a volcert bug during the run
 * is not proof of anything, so it fails the self-test.
 */
import { expect, type TestContext } from "vitest";
import { runCase, type Case } from "../../harness/case/runtime.ts";
import { brokenFixture, installedBrokenFixture } from "../../harness/case/run-context.ts";
import { caseBudget } from "../../harness/case/budget.ts";
import { categoryOf, describeError } from "../../harness/core/errors.ts";

/** Above the case's own budget, so the case's waits give up (and say why) before Vitest does. */
export const selfTestTimeout = (fixture: string, disruptive: boolean): number =>
  caseBudget(installedBrokenFixture(fixture), disruptive).vitestMs + 60_000;

export async function expectCaught(kase: Case, fixture: string, because: RegExp, t: TestContext): Promise<void> {
  if (!installedBrokenFixture(fixture)) {
    t.skip(`broken fixture ${fixture} is not part of this run (--driver left it out)`);
    return;
  }
  const driver = brokenFixture(fixture);
  expect(driver.metadata.description ?? "", "fixture must be marked BROKEN").toMatch(/^BROKEN/);
  const failure = await runCase(kase, driver, t).then(
    () => null,
    (err: unknown) => err,
  );
  expect(failure, `${kase.meta.id} must fail against ${fixture}`).not.toBeNull();
  expect(categoryOf(failure), `${kase.meta.id} must blame the driver, not:\n${describeError(failure)}`).toBe("driver");
  expect(failure instanceof Error ? failure.message : String(failure)).toMatch(because);
}
