import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DRIVERS_DIR } from "../drivers/fixtures.ts";
import { loadDriverFile } from "../drivers/load.ts";
import { reproCommands } from "./commands.ts";
import type { ReproRecord } from "./record.ts";

const access = {
  cluster: "volcert-repro",
  kubeconfig: "/root/.cache/volcert/kubeconfig-volcert-repro",
  kubectl: "/root/.cache/volcert/bin/kubectl",
  // kind's rendering (clusters/kind/nodes.ts), as the CLI passes it in.
  onNode: (node: string, command: string, o: { interactive?: boolean } = {}) =>
    `docker exec${o.interactive ? " -it" : ""} ${node} ${command}`,
};
const record: ReproRecord = {
  id: "NF-02",
  title: "pod deleted while the kubelet is stopped",
  driver: "csi-hostpath",
  namespace: "nf-02-ab12",
  outcome: "failed",
  error: "mounts of pod x cleaned up: not done\nmore",
  pods: [{ name: "next", node: "volcert-repro-worker", uid: "0d5c1f6e-1111-2222-3333-444455556666", phase: "Running" }],
  claims: [{ name: "claim", volume: "pvc-7f1e" }],
};

describe("repro commands", () => {
  test("name the namespace, the PV, the pod's mounts and kubelet lines, and the CSI node plugin on the pod's node", async () => {
    const d = (await loadDriverFile(join(DRIVERS_DIR, "csi-hostpath", "driver.yaml"))).definition;
    const text = reproCommands(record, access, d).join("\n");
    expect(text).toContain(`export KUBECONFIG=${access.kubeconfig} KUBECTL=${access.kubectl}`);
    expect(text).toContain('"$KUBECTL" get pods,pvc,events -n nf-02-ab12 -o wide');
    expect(text).toContain('"$KUBECTL" get pv pvc-7f1e -o yaml');
    expect(text).toContain(
      "docker exec volcert-repro-worker findmnt --list --output TARGET,SOURCE,FSTYPE,OPTIONS | grep 0d5c1f6e-1111-2222-3333-444455556666",
    );
    expect(text).toContain("grep -e 0d5c1f6e-1111-2222-3333-444455556666 -e pvc-7f1e");
    expect(text).toContain("get pods -n volcert-csi-hostpath --field-selector spec.nodeName=volcert-repro-worker");
    expect(text).toContain("failed (mounts of pod x cleaned up: not done)");
    expect(text).not.toContain("losetup");
  });

  test("FlexVolume: kubelet's driver calls and the loop devices", async () => {
    const d = (await loadDriverFile(join(DRIVERS_DIR, "flex-loop", "driver.yaml"))).definition;
    const text = reproCommands({ ...record, driver: "flex-loop" }, access, d).join("\n");
    expect(text).toContain("grep -i flexvolume");
    expect(text).toContain("docker exec volcert-repro-worker losetup --list");
  });
});
