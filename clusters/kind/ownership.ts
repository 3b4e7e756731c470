/**
 * Which Docker containers are volcert's, for the decision to restart Docker: the node containers
 * of kind clusters named volcert-*, and containers volcert labelled that belong to no kind
 * cluster. io.volcert.managed alone is no proof: it is baked into volcert's images, so every node
 * of any kind cluster made from volcert's node image carries it, whoever made the cluster.
 */
import { LABEL_MANAGED } from "../images/docker-images.ts";
import { CLUSTER_LABEL } from "./nodes.ts";
import { CLUSTER_PREFIX } from "./shape.ts";

export function isVolcertContainer(c: { labels: Record<string, string> }): boolean {
  const cluster = c.labels[CLUSTER_LABEL];
  if (cluster !== undefined) return cluster.startsWith(CLUSTER_PREFIX);
  return c.labels[LABEL_MANAGED] !== undefined;
}
