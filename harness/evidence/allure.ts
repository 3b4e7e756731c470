/**
 * The only module that talks to Allure. Suites label and attach through here, so the report's
 * structure (test IDs, areas, drivers) is defined once.
 */
import * as allure from "allure-js-commons";

export interface CaseLabels {
  id: string;
  area: string;
  driver?: string;
}

export async function labelCase(l: CaseLabels): Promise<void> {
  await allure.label("testId", l.id);
  await allure.allureId(l.id);
  await allure.epic(l.driver ? `driver ${l.driver}` : "cluster");
  await allure.feature(l.area);
  await allure.story(l.id);
  if (l.driver) await allure.parameter("driver", l.driver);
  await allure.tags(l.id.split("-")[0] ?? l.id);
}

export async function attachText(
  name: string,
  content: string,
  type: "text/plain" | "application/json" | "text/yaml" = "text/plain",
): Promise<void> {
  await Promise.resolve(allure.attachment(name, content, { contentType: type }));
}

export async function recordParameter(name: string, value: string): Promise<void> {
  await allure.parameter(name, value);
}

export async function describeCase(markdown: string): Promise<void> {
  await allure.description(markdown);
}

export async function logStep(name: string): Promise<void> {
  await allure.logStep(name);
}

export function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return allure.step(name, fn) as Promise<T>;
}

/** The Allure label that says whose failure a failed test is; the report's categories match on it. */
export const BLAME_LABEL = "blame";

/**
 * Labels a test that already failed with whose failure it is. Called from Vitest's onTestFailed,
 * where Allure's own API cannot tell which of several concurrent tests is meant, so the label goes
 * straight into the task's metadata, where allure-vitest's reporter collects runtime messages.
 */
export function labelFailedTask(task: { meta: object }, blame: string): void {
  const meta = task.meta as { allureRuntimeMessages?: unknown[] };
  (meta.allureRuntimeMessages ??= []).push({
    type: "metadata",
    data: { labels: [{ name: BLAME_LABEL, value: blame }] },
  });
}

/**
 * A step of the case's report with its own outcome: passed, or failed (the driver's) or broken
 * (anyone else's) with its error, so a second failure (a leak found after the case had already
 * failed) shows next to the verdict without replacing it.
 */
export async function reportStep(name: string, error?: Error & { category?: string }): Promise<void> {
  const status = !error
    ? allure.Status.PASSED
    : error.category === "driver"
      ? allure.Status.FAILED
      : allure.Status.BROKEN;
  await allure.logStep(name, status, error);
}
