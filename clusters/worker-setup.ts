/**
 * Vitest setup file: registers the node access of the run's cluster provider in each test worker,
 * from the run context the CLI provided. Unit tests get no run context and no node access.
 * Helper pods of a kubeconfig cluster are shared by all workers, so no worker removes them: the
 * CLI does, after the run (removeHelperPods).
 */
import { inject } from "vitest";
import { registerNodeAccess } from "../harness/core/nodes.ts";
import { RUN_CONTEXT_KEY, type RunContext } from "../harness/core/run-context.ts";
import { kindNodeAccess } from "./kind/nodes.ts";
import { helperPodNodeAccess } from "./kubeconfig/nodes.ts";

const run: RunContext | undefined = inject(RUN_CONTEXT_KEY);
if (run) {
  registerNodeAccess(
    run.cluster.provider === "kind"
      ? kindNodeAccess(run.cluster.name)
      : helperPodNodeAccess(run.cluster.kubeconfig, run.kubectl, { image: run.images.workload }),
  );
}
