/**
 * The exact commands an engineer needs to poke at a kept case: the API objects, the volume's
 * mounts on its node, the kubelet log, the driver's log, loop devices. Pure, so it is unit-tested.
 */
import { quoteArg } from "../core/exec.ts";
import type { NodeShell } from "../core/nodes.ts";
import type { DriverFile } from "../drivers/schema.ts";
import type { ReproRecord } from "./record.ts";

export interface ReproAccess {
  cluster: string;
  kubeconfig: string;
  kubectl: string;
  /** How a person runs a command on a node (the node seam's commandLine). */
  onNode: NodeShell["commandLine"];
}

export function reproCommands(r: ReproRecord, a: ReproAccess, driver: DriverFile | undefined): string[] {
  const k = `"$KUBECTL"`;
  const lines = [
    `# ${r.id} ${r.title} [${r.driver ?? "no driver"}]: ${r.outcome}${r.error ? ` (${r.error.split("\n")[0]})` : ""}`,
    `export KUBECONFIG=${quoteArg(a.kubeconfig)} KUBECTL=${quoteArg(a.kubectl)}`,
    `${k} get pods,pvc,events -n ${r.namespace} -o wide`,
  ];
  for (const c of r.claims.filter((c) => c.volume)) lines.push(`${k} get pv ${c.volume} -o yaml`);
  const nodes = [...new Set(r.pods.map((p) => p.node).filter(Boolean))];
  for (const p of r.pods) {
    lines.push(`${k} describe pod -n ${r.namespace} ${p.name}`);
    if (!p.node) continue;
    lines.push(
      `${a.onNode(p.node, "findmnt --list --output TARGET,SOURCE,FSTYPE,OPTIONS")} | grep ${p.uid}   # mounts of pod ${p.name}`,
    );
    lines.push(
      `${a.onNode(p.node, "journalctl -u kubelet --no-pager --since -30min")} | grep -e ${p.uid}${r.claims.map((c) => (c.volume ? ` -e ${c.volume}` : "")).join("")}   # kubelet on ${p.name}`,
    );
  }
  for (const node of nodes) lines.push(...driverLog(driver, node, k, a));
  if (driver?.spec.type === "flexvolume" || driver?.spec.inTree?.plugin === "local")
    for (const node of nodes) lines.push(a.onNode(node, "losetup --list"));
  for (const node of nodes) lines.push(`${a.onNode(node, "bash", { interactive: true })}   # a shell on the node`);
  const pvs = r.claims.map((c) => c.volume).filter(Boolean);
  lines.push(
    `# when done: ${k} delete namespace ${r.namespace}${pvs.length ? `; ${k} delete pv ${pvs.join(" ")} --ignore-not-found` : ""}   # or the whole cluster: npm run volcert -- cluster down ${a.cluster}`,
  );
  return lines;
}

function driverLog(d: DriverFile | undefined, node: string, k: string, a: ReproAccess): string[] {
  const csi = d?.spec.csi;
  if (csi?.node) {
    const pod = `$(${k} get pods -n ${csi.node.namespace} --field-selector spec.nodeName=${node} -o name | head -1)`;
    return [`${k} logs -n ${csi.node.namespace} ${pod} --all-containers --prefix   # CSI node plugin on ${node}`];
  }
  if (d?.spec.flexVolume)
    return [
      `${a.onNode(node, "journalctl -u kubelet --no-pager --since -30min")} | grep -i flexvolume   # FlexVolume calls on ${node}`,
    ];
  return [];
}
