/**
 * One namespace per test (or per file), labelled with the run and test IDs so leftovers can be
 * traced and swept. Deleting it waits (bounded) until its pods and claims are gone, so the case's
 * volumes are released; the namespace object finishes Terminating on its own (see `emptied`).
 */
import { randomBytes } from "node:crypto";
import { waitFor } from "../core/wait.ts";
import { emptied } from "../k8s/conditions.ts";
import type { Kube } from "../k8s/kube.ts";

export const LABEL_RUN = "volcert.io/run-id";
export const LABEL_TEST = "volcert.io/test-id";

export interface TestNamespace extends AsyncDisposable {
  name: string;
}

export async function createNamespace(kube: Kube, testId: string, runId: string): Promise<TestNamespace> {
  const name = `volcert-${testId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}-${randomBytes(3).toString("hex")}`;
  await kube.core.createNamespace({
    body: {
      metadata: {
        name,
        labels: { [LABEL_RUN]: runId, [LABEL_TEST]: testId, "app.kubernetes.io/managed-by": "volcert" },
      },
    },
  });
  return {
    name,
    async [Symbol.asyncDispose]() {
      await kube.deleteIfExists("Namespace", name);
      await waitFor(`namespace ${name} emptied (its pods and claims deleted)`, emptied(kube, name), {
        timeoutMs: 120_000,
        intervalMs: 1000,
        blame: "driver",
      });
    },
  };
}
