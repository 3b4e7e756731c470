/**
 * Node taints through the API, like `kubectl taint`. The node's taint list is replaced whole
 * (it is an atomic list), so each change is made against the version read, with that
 * resourceVersion as a precondition: a concurrent change by the node lifecycle controller (an
 * `unreachable` taint, say) makes the write conflict and it is retried, never overwritten.
 */
import { apiStatus, isNotFound } from "./api-errors.ts";
import type { Kube, V1Taint } from "./kube.ts";

export interface TaintSpec {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** Adds the taint, replacing one with the same key and effect (`kubectl taint --overwrite`). */
export async function addTaint(kube: Kube, node: string, taint: TaintSpec): Promise<void> {
  await updateTaints(kube, node, (taints) => [
    ...taints.filter((t) => !(t.key === taint.key && t.effect === taint.effect)),
    // The API writes timeAdded for NoExecute taints only.
    { ...taint, ...(taint.effect === "NoExecute" ? { timeAdded: new Date() } : {}) },
  ]);
}

/** Removes every taint with this key (`kubectl taint node <node> <key>-`); false if there was none or no such node. */
export async function removeTaint(kube: Kube, node: string, key: string): Promise<boolean> {
  try {
    return await updateTaints(kube, node, (taints) => taints.filter((t) => t.key !== key));
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

const ATTEMPTS = 5;

async function updateTaints(kube: Kube, node: string, change: (taints: V1Taint[]) => V1Taint[]): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const n = await kube.read("Node", node);
    const before = n.spec?.taints ?? [];
    const after = change(before);
    if (JSON.stringify(after) === JSON.stringify(before)) return false;
    try {
      await kube.mergePatch("Node", node, undefined, {
        metadata: { resourceVersion: n.metadata?.resourceVersion },
        spec: { taints: after.length ? after : null },
      });
      return true;
    } catch (err) {
      if (apiStatus(err)?.code !== 409 || attempt >= ATTEMPTS) throw err;
    }
  }
}
