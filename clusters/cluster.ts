/**
 * What the rest of volcert knows about a cluster. Providers create or attach to one; optional
 * abilities (node containers for faults, image loading) live in separate interfaces and are
 * checked where they are used.
 */
export interface Cluster {
  name: string;
  kubeconfigPath: string;
  provider: "kind" | "kubeconfig";
  /** Disruptive tests run only where this is true, unless the user explicitly allows otherwise. */
  createdByVolcert: boolean;
}

/** Clusters whose nodes are local containers (kind): faults can be injected natively. */
export interface NodeContainers {
  nodeContainers(): Promise<string[]>;
}

export interface KindCluster extends Cluster, NodeContainers {
  provider: "kind";
}
