/**
 * `volcert drivers import`: an upstream storage.testdriver file as the equivalent volcert driver
 * file, for the vendor to complete. What upstream has no place for (how to install the driver,
 * its workloads, where volume data lives) is left as commented-out fields to fill in; what was
 * mapped follows upstream's own defaults (size range, expansion flags). The result validates as it
 * is (it describes the driver installed in a cluster) and again once completed.
 */
import { stringify } from "yaml";
import type { LoadedDriver } from "./load.ts";

export function importedDriverText(d: LoadedDriver): string {
  const def = d.definition;
  const csi = def.spec.csi;
  const spec: Record<string, unknown> = { ...def.spec };
  // Defaults that say nothing are left out, so the file shows what the upstream file said.
  if (JSON.stringify(spec["supportedFsTypes"]) === '[""]') delete spec["supportedFsTypes"];
  if ((spec["supportedMountOptions"] as unknown[]).length === 0) delete spec["supportedMountOptions"];
  if ((spec["volumeDataPaths"] as unknown[]).length === 0) delete spec["volumeDataPaths"];
  if (spec["timeoutMultiplier"] === 1) delete spec["timeoutMultiplier"];
  if (Object.keys(spec["timeouts"] as object).length === 0) delete spec["timeouts"];
  if (csi) spec["csi"] = { driverName: csi.driverName };
  const body = stringify(
    { apiVersion: def.apiVersion, kind: def.kind, metadata: def.metadata, spec },
    { lineWidth: 0 },
  );
  const todo = [
    "  # To let volcert install the driver on the clusters it creates, add under spec.csi:",
    "  #   manifests: [deploy/rbac.yaml, deploy/driver.yaml]   # files next to this one",
    "  #   node: { kind: DaemonSet, name: <node plugin>, namespace: <namespace> }",
    "  #   controller: { kind: Deployment, name: <controller>, namespace: <namespace> }",
    "  #   expect: { attachRequired: <true|false> }             # what the CSIDriver object says",
    "  # and where a volume's data lives on a node, so deletion is checked there:",
    '  #   volumeDataPaths: ["/var/lib/<driver>/{volumeHandle}"]',
    "  # Without manifests it describes the driver as installed in a cluster: run it with --kubeconfig.",
  ];
  const header = [
    "# yaml-language-server: $schema=https://volcert.io/schemas/driver-v1alpha1.json",
    `# Imported by \`volcert drivers import\` from ${d.file}.`,
    ...d.notes.map((n) => `# note: ${n}`),
  ];
  // The to-do block goes right under `spec:`, where the fields belong.
  return `${header.join("\n")}\n${body.replace(/^spec:\n/m, `spec:\n${todo.join("\n")}\n`)}`;
}
