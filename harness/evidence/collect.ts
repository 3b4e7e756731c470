/**
 * Evidence gathered automatically when a case fails: events, objects, pod logs in the test
 * namespace; on every node the kubelet journal tail and the mount table. Each piece is gathered
 * independently: one failing collector never hides the others (nor the original failure).
 */
import type { NodeShell } from "../core/nodes.ts";
import { listEvents, renderEvents } from "../k8s/events.ts";
import type { Kube } from "../k8s/kube.ts";
import { describePods, objectsYaml } from "../k8s/render.ts";
import { journalTail } from "../nodes/journal.ts";
import { mountinfoText } from "../nodes/mountinfo.ts";

export interface Evidence {
  name: string;
  content: string;
  type: "text/plain" | "application/json" | "text/yaml";
}

export async function collectEvidence(
  kube: Kube,
  namespace: string | undefined,
  nodes: NodeShell,
): Promise<Evidence[]> {
  const out: Evidence[] = [];
  const grab = async (name: string, type: Evidence["type"], fn: () => Promise<string>) => {
    try {
      out.push({ name, type, content: await fn() });
    } catch (err) {
      out.push({ name: `${name} (collection failed)`, type: "text/plain", content: String(err) });
    }
  };
  if (namespace) {
    await grab(`events ${namespace}`, "text/plain", async () => renderEvents(await listEvents(kube, namespace)));
    await grab(`objects ${namespace}.yaml`, "text/yaml", async () =>
      objectsYaml([
        ...(await kube.list("Pod", { namespace })),
        ...(await kube.list("PersistentVolumeClaim", { namespace })),
        ...(await kube.list("ConfigMap", { namespace })),
      ]),
    );
    await grab(`describe pods ${namespace}`, "text/plain", async () =>
      describePods(await kube.list("Pod", { namespace }), await listEvents(kube, namespace)),
    );
    await grab(
      `pod logs ${namespace}`,
      "text/plain",
      async () =>
        (
          await kube.kubectl(
            [
              "logs",
              "-n",
              namespace,
              "--all-containers",
              "--prefix",
              "--tail=200",
              "-l",
              "app.kubernetes.io/managed-by=volcert",
            ],
            { nothrow: true },
          )
        ).stdout,
    );
  }
  await grab("persistent volumes.yaml", "text/yaml", async () =>
    objectsYaml([
      ...(await kube.list("PersistentVolume")),
      ...(await kube.list("VolumeAttachment")),
      ...(await kube.list("StorageClass")),
    ]),
  );
  const names = await nodes.nodes().catch((err: unknown) => {
    out.push({ name: "node list (collection failed)", type: "text/plain", content: String(err) });
    return [];
  });
  for (const node of names) {
    // A node that cannot be reached (frozen, powered off) says so in place of its journal.
    await grab(`kubelet journal ${node}`, "text/plain", () => journalTail(nodes, node, "kubelet", 150));
    await grab(`mount table ${node}`, "text/plain", () => mountinfoText(nodes, node));
  }
  return out;
}
