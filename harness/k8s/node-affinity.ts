/**
 * Which nodes a PersistentVolume's node affinity admits, evaluated as the scheduler does
 * (k8s.io/component-helpers nodeaffinity): the terms are ORed, the requirements of a term ANDed;
 * no affinity admits every node, an empty list of terms none.
 */
import type { V1Node, V1NodeSelectorRequirement, V1PersistentVolume } from "./kube.ts";

function meets(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      const n = Number(value);
      const bound = Number(values[0]);
      if (value === undefined || !Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return r.operator === "Gt" ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/** The names of the nodes the PV's node affinity admits. */
export function nodesAdmitted(pv: V1PersistentVolume, nodes: readonly V1Node[]): string[] {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  const names = nodes.map((n) => n.metadata?.name ?? "");
  if (!terms) return names;
  return nodes
    .filter((n) =>
      terms.some((t) => {
        const exprs = t.matchExpressions ?? [];
        const fields = t.matchFields ?? [];
        // A term with no requirements matches nothing (the scheduler's rule).
        if (!exprs.length && !fields.length) return false;
        const labels = n.metadata?.labels ?? {};
        return (
          exprs.every((r) => meets(r, labels[r.key])) &&
          fields.every((r) => r.key === "metadata.name" && meets(r, n.metadata?.name))
        );
      }),
    )
    .map((n) => n.metadata?.name ?? "");
}

/** The PV's node affinity as one line (for messages and the report). */
export function describeNodeAffinity(pv: V1PersistentVolume): string {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return "none";
  const req = (r: V1NodeSelectorRequirement) =>
    `${r.key} ${r.operator}${r.values?.length ? ` ${r.values.join(",")}` : ""}`;
  return terms
    .map((t) => [...(t.matchExpressions ?? []), ...(t.matchFields ?? [])].map(req).join(" and ") || "(empty term)")
    .join(" or ");
}
