/**
 * Undoing a fault from its journal record (harness/core/journal.ts). The faults' own heal() calls
 * these, and so does `volcert cluster heal` for what a stopped or killed run left behind: one
 * implementation, so a heal from the journal does exactly what the case would have done. Every
 * restore is idempotent: a fault found already undone is fine.
 */
import { InfraError } from "../core/errors.ts";
import type { FaultRecord } from "../core/journal.ts";
import type { NodeAccess } from "../core/nodes.ts";
import type { Kube } from "../k8s/kube.ts";
import { removeTaint } from "../k8s/taints.ts";
import { kubeletAction, waitKubelet } from "../nodes/kubelet.ts";
import { needsLifecycle } from "../nodes/lifecycle.ts";

export interface RestoreDeps {
  /** The cluster's API (faults made through it). */
  kube?: Kube;
  /** Absent for a cluster reached only through its API (kubeconfig). */
  access?: NodeAccess;
}

export const PARTITION_CHAIN = "VOLCERT-PARTITION";
const IPT = "iptables -w 10";

/** The iptables jumps a partition of the interface `dev` adds. */
export function partitionJumps(dev: string): string[] {
  return [`INPUT -i ${dev}`, `FORWARD -i ${dev}`, `OUTPUT -o ${dev}`, `FORWARD -o ${dev}`];
}

export function partitionInjectScript(dev: string): string {
  return [
    `${IPT} -N ${PARTITION_CHAIN} 2>/dev/null || ${IPT} -F ${PARTITION_CHAIN}`,
    `${IPT} -A ${PARTITION_CHAIN} -j DROP`,
    ...partitionJumps(dev).map(
      (j) =>
        `${IPT} -C ${j} -j ${PARTITION_CHAIN} 2>/dev/null || ${IPT} -I ${j.replace(" ", " 1 ")} -j ${PARTITION_CHAIN}`,
    ),
  ].join("\n");
}

/** Deletes every jump and the chain, then proves it: a heal that did not take must fail, not pass. */
export function partitionHealScript(dev: string): string {
  return [
    ...partitionJumps(dev).map(
      (j) => `while ${IPT} -C ${j} -j ${PARTITION_CHAIN} 2>/dev/null; do ${IPT} -D ${j} -j ${PARTITION_CHAIN}; done`,
    ),
    `if ${IPT} -S ${PARTITION_CHAIN} >/dev/null 2>&1; then ${IPT} -F ${PARTITION_CHAIN} && ${IPT} -X ${PARTITION_CHAIN}; fi`,
    `! ${IPT} -S ${PARTITION_CHAIN} >/dev/null 2>&1`,
  ].join("\n");
}

function api(deps: RestoreDeps, what: string): Kube {
  if (!deps.kube) throw new Error(`${what} needs the cluster's API`);
  return deps.kube;
}

function nodes(deps: RestoreDeps, what: string): NodeAccess {
  if (!deps.access) throw new Error(`${what} needs the node shell, and this cluster is reached only through its API`);
  return deps.access;
}

export async function restoreFault(record: FaultRecord, deps: RestoreDeps): Promise<void> {
  switch (record.fault) {
    case "node-stopped": {
      const lifecycle = needsLifecycle(`powering node ${record.node} on`, nodes(deps, "starting a node"));
      if ((await lifecycle.state(record.node)) === "paused") await lifecycle.unpause(record.node);
      if ((await lifecycle.state(record.node)) !== "running") await lifecycle.start(record.node);
      const now = await lifecycle.address(record.node);
      // The kubelet is configured for its address (--node-ip): a node that comes back with another
      // one cannot work (kind: Docker gives the old address back only when it is still free). Checked
      // even when the node is found running: an earlier heal may have started it.
      if (now !== record.address)
        throw new InfraError(
          `node ${record.node} came back with address ${now}, not ${record.address}; its kubelet is configured for ${record.address}, so this cluster cannot be healed: delete it`,
        );
      return;
    }
    case "node-paused": {
      const lifecycle = needsLifecycle(`unfreezing node ${record.node}`, nodes(deps, "unpausing a node"));
      if ((await lifecycle.state(record.node)) === "paused") await lifecycle.unpause(record.node);
      return;
    }
    case "kubelet-stopped": {
      const { shell } = nodes(deps, "starting the kubelet");
      await kubeletAction(shell, record.node, "start");
      await waitKubelet(shell, record.node, "active");
      return;
    }
    case "partition": {
      const { shell } = nodes(deps, "removing a network partition");
      await shell.exec(record.node, ["sh", "-ec", partitionHealScript(record.device)]);
      return;
    }
    case "taint":
      await removeTaint(api(deps, "removing a taint"), record.node, record.key);
      return;
    case "cordon":
      await api(deps, "uncordoning a node").mergePatch("Node", record.node, undefined, {
        spec: { unschedulable: null },
      });
      return;
    case "daemonset-affinity": {
      const kube = api(deps, "restoring a DaemonSet");
      const ds = await kube.readIfExists("DaemonSet", record.name, record.namespace);
      if (!ds) return; // the driver was uninstalled: nothing to restore
      const now: unknown = JSON.parse(JSON.stringify(ds.spec?.template.spec?.affinity ?? null));
      if (JSON.stringify(now) === JSON.stringify(record.original)) return;
      const path = "/spec/template/spec/affinity";
      await kube.jsonPatch(
        "DaemonSet",
        record.name,
        record.namespace,
        record.original === null
          ? [{ op: "remove", path }]
          : [{ op: now === null ? "add" : "replace", path, value: record.original }],
      );
      return;
    }
  }
}
