/**
 * The cluster an e2e run targets. The volcert CLI creates it before starting Vitest and passes it in
 * through the environment; running the e2e project any other way is refused with a clear message
 * (listing tests never needs a cluster).
 */
import { ConfigError } from "../core/errors.ts";
import { Kube } from "../k8s/kube.ts";

export interface ClusterEnv {
  name: string;
  kube: Kube;
  createdByVolcert: boolean;
  runId: string;
  /** Nodes the cluster was created with (control plane included). */
  expectedNodes: number;
}

let cached: ClusterEnv | undefined;

export function clusterEnv(): ClusterEnv {
  if (cached) return cached;
  const kubeconfig = process.env["VOLCERT_KUBECONFIG"];
  const kubectl = process.env["VOLCERT_KUBECTL"];
  if (!kubeconfig || !kubectl) {
    throw new ConfigError("the e2e suites need a real cluster and were started without one", [], {
      fix: "run them through `npm test` or `npm start` (volcert creates the cluster), or set VOLCERT_KUBECONFIG and VOLCERT_KUBECTL",
    });
  }
  cached = {
    name: process.env["VOLCERT_CLUSTER"] ?? "unknown",
    kube: new Kube(kubeconfig, kubectl),
    createdByVolcert: process.env["VOLCERT_CLUSTER_CREATED"] === "true",
    runId: process.env["VOLCERT_RUN_ID"] ?? "local",
    expectedNodes: Number(process.env["VOLCERT_EXPECTED_NODES"] ?? "3"),
  };
  return cached;
}
