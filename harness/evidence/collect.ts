/**
 * Evidence gathered automatically when a case fails: events, objects, pod logs in the test
 * namespace; on every node the kubelet journal tail and the mount table. Each piece is gathered
 * independently: one failing collector never hides the others (nor the original failure).
 */
import { exec } from "../core/exec.ts";
import type { Kube } from "../k8s/kube.ts";

export interface Evidence {
  name: string;
  content: string;
  type: "text/plain" | "application/json" | "text/yaml";
}

export async function nodeContainers(cluster: string): Promise<string[]> {
  const r = await exec(
    "docker",
    ["ps", "--filter", `label=io.x-k8s.kind.cluster=${cluster}`, "--format", "{{.Names}}"],
    { nothrow: true, timeoutMs: 30_000 },
  );
  return r.ok
    ? r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .sort()
    : [];
}

export async function collectEvidence(kube: Kube, namespace: string | undefined, cluster: string): Promise<Evidence[]> {
  const out: Evidence[] = [];
  const grab = async (name: string, type: Evidence["type"], fn: () => Promise<string>) => {
    try {
      out.push({ name, type, content: await fn() });
    } catch (err) {
      out.push({ name: `${name} (collection failed)`, type: "text/plain", content: String(err) });
    }
  };
  if (namespace) {
    await grab(
      `events ${namespace}`,
      "text/plain",
      async () =>
        (
          await kube.kubectl(["get", "events", "-n", namespace, "--sort-by=.lastTimestamp", "-o", "wide"], {
            nothrow: true,
          })
        ).stdout,
    );
    await grab(
      `objects ${namespace}.yaml`,
      "text/yaml",
      async () =>
        (await kube.kubectl(["get", "pods,pvc,configmaps", "-n", namespace, "-o", "yaml"], { nothrow: true })).stdout,
    );
    await grab(
      `describe pods ${namespace}`,
      "text/plain",
      async () => (await kube.kubectl(["describe", "pods", "-n", namespace], { nothrow: true })).stdout,
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
  await grab(
    "persistent volumes.yaml",
    "text/yaml",
    async () =>
      (await kube.kubectl(["get", "pv,volumeattachments,storageclasses", "-o", "yaml"], { nothrow: true })).stdout,
  );
  for (const node of await nodeContainers(cluster)) {
    await grab(
      `kubelet journal ${node}`,
      "text/plain",
      async () =>
        (
          await exec("docker", ["exec", node, "journalctl", "-u", "kubelet", "--no-pager", "-n", "150"], {
            nothrow: true,
            timeoutMs: 30_000,
          })
        ).stdout,
    );
    await grab(
      `mount table ${node}`,
      "text/plain",
      async () =>
        (await exec("docker", ["exec", node, "cat", "/proc/self/mountinfo"], { nothrow: true, timeoutMs: 30_000 }))
          .stdout,
    );
  }
  return out;
}
