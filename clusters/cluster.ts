/**
 * What the rest of volcert knows about a cluster. Providers create or attach to one; reaching its
 * nodes goes through the node seam (harness/core/nodes.ts), which each provider implements
 * (kind/nodes.ts, kubeconfig/nodes.ts).
 */
export interface Cluster {
  name: string;
  kubeconfigPath: string;
  provider: "kind" | "kubeconfig";
  /** Disruptive tests run only where this is true, unless the user explicitly allows otherwise. */
  createdByVolcert: boolean;
}

export interface KindCluster extends Cluster {
  provider: "kind";
}
