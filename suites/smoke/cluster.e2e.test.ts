/**
 * Cluster smoke: what every later suite relies on. The cluster volcert built without any registry
 * has all nodes Ready at the pinned version, working DNS, and runs the test workload image with an
 * emptyDir on every worker.
 */
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import * as allure from "allure-js-commons";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { waitFor } from "../../harness/core/wait.ts";
import { isNodeReady, isPodReady } from "../../harness/k8s/kube.ts";
import { waitForPodReady, workloadPod } from "../../harness/k8s/pods.ts";
import { runContext, runKube } from "../../harness/case/run-context.ts";
import { createNamespace, type TestNamespace } from "../../harness/case/namespace.ts";
import { CLUSTER_LIMITS } from "../../harness/case/limits.ts";

const env = () => {
  const run = runContext();
  return { kube: runKube(), runId: run.runId, expectedNodes: run.cluster.expectedNodes, run };
};

async function label(id: string): Promise<void> {
  await allure.label("testId", id);
  await allure.epic("Cluster");
  await allure.feature("Smoke");
}

describe("cluster smoke", () => {
  let ns: TestNamespace;

  beforeAll(async () => {
    ns = await createNamespace(env().kube, "SMOKE", env().runId);
  });
  afterAll(async () => {
    await ns?.[Symbol.asyncDispose]();
  });

  test("SMOKE-01 every node is Ready and runs the pinned Kubernetes version", async () => {
    await label("SMOKE-01");
    const nodes = await waitFor(
      "all nodes Ready",
      async () => {
        const list = await env().kube.core.listNode();
        const notReady = list.items.filter((n) => !isNodeReady(n)).map((n) => n.metadata?.name);
        return {
          done: list.items.length > 0 && !notReady.length,
          value: list.items,
          seen: `${list.items.length} nodes, not Ready: ${notReady.join(", ") || "none"}`,
        };
      },
      { timeoutMs: CLUSTER_LIMITS.nodeReady, intervalMs: 2000, blame: "infrastructure" },
    );
    await allure.attachment(
      "nodes.json",
      JSON.stringify(
        nodes.map((n) => ({
          name: n.metadata?.name,
          kubelet: n.status?.nodeInfo?.kubeletVersion,
          runtime: n.status?.nodeInfo?.containerRuntimeVersion,
        })),
        null,
        2,
      ),
      { contentType: "application/json" },
    );
    expect(nodes.length).toBe(env().expectedNodes);
    // The pinned version is known only for a cluster volcert built itself.
    const built = env().run.built;
    if (built)
      for (const n of nodes) expect(n.status?.nodeInfo?.kubeletVersion, n.metadata?.name).toBe(built.kubernetesVersion);
    expect(
      nodes.filter((n) => n.metadata?.labels?.["node-role.kubernetes.io/control-plane"] !== undefined),
    ).toHaveLength(1);
  });

  test("SMOKE-02 CoreDNS is Ready", async () => {
    await label("SMOKE-02");
    const pods = await waitFor(
      "CoreDNS pods Ready",
      async () => {
        const list = await env().kube.core.listNamespacedPod({
          namespace: "kube-system",
          labelSelector: "k8s-app=kube-dns",
        });
        const ready = list.items.filter(isPodReady);
        return {
          done: ready.length > 0 && ready.length === list.items.length,
          value: list.items,
          seen: `${ready.length}/${list.items.length} Ready`,
        };
      },
      { timeoutMs: CLUSTER_LIMITS.coreDnsReady, intervalMs: 2000, blame: "infrastructure" },
    );
    expect(pods.length).toBeGreaterThan(0);
    const built = env().run.built;
    if (built) for (const p of pods) expect(p.spec?.containers[0]?.image).toBe(built.corednsImage);
  });

  test("SMOKE-03 a workload pod with an emptyDir runs on each worker and its data check passes", async () => {
    await label("SMOKE-03");
    const kube = env().kube;
    const workers = (await kube.core.listNode()).items
      .filter((n) => n.metadata?.labels?.["node-role.kubernetes.io/control-plane"] === undefined)
      .map((n) => n.metadata?.name as string);
    expect(workers).toHaveLength(env().expectedNodes - 1);
    expect(workers.length, "this check needs at least one worker").toBeGreaterThan(0);
    const pattern = newPattern(256 * 1024);
    await allure.parameter("seed", pattern.seed);
    const expected = await expectedChecksum(pattern);
    for (const [i, node] of workers.entries()) {
      const name = `emptydir-${i}`;
      await kube.core.createNamespacedPod({
        namespace: ns.name,
        body: workloadPod({
          name,
          namespace: ns.name,
          image: env().run.images.workload,
          nodeName: node,
          volumes: [{ name: "scratch", emptyDir: {} }],
          volumeMounts: [{ name: "scratch", mountPath: "/data" }],
        }),
      });
      const pod = await waitForPodReady(kube, ns.name, name, driverTimeout(undefined, "podStart"));
      expect(pod.spec?.nodeName).toBe(node);
      const written = (await kube.execInPod(ns.name, name, writeScript(pattern, "/data/pattern"))).trim();
      const read = (await kube.execInPod(ns.name, name, readChecksumScript("/data/pattern"))).trim();
      expect(written, `checksum written on ${node}`).toBe(expected);
      expect(read, `checksum read back on ${node}`).toBe(expected);
    }
  });

  test("SMOKE-04 a pod resolves kubernetes.default through cluster DNS", async () => {
    await label("SMOKE-04");
    const kube = env().kube;
    const svc = await kube.core.readNamespacedService({ namespace: "default", name: "kubernetes" });
    const name = "dns-probe";
    await kube.core.createNamespacedPod({
      namespace: ns.name,
      body: workloadPod({ name, namespace: ns.name, image: env().run.images.workload }),
    });
    await waitForPodReady(kube, ns.name, name, driverTimeout(undefined, "podStart"));
    const resolvConf = await kube.execInPod(ns.name, name, ["cat", "/etc/resolv.conf"]);
    await allure.attachment("resolv.conf", resolvConf, { contentType: "text/plain" });
    const dnsSvc = await kube.core.readNamespacedService({ namespace: "kube-system", name: "kube-dns" });
    expect(resolvConf).toContain(`nameserver ${dnsSvc.spec?.clusterIP}`);
    const answer = await waitFor(
      "kubernetes.default resolves in a pod",
      async () => {
        const r = await kube.runInPod(ns.name, name, ["getent", "hosts", "kubernetes.default"]);
        return {
          done: r.exitCode === 0,
          value: r.stdout,
          seen: r.exitCode === 0 ? r.stdout.trim() : `getent exit ${r.exitCode}: ${r.stderr.trim()}`,
        };
      },
      { timeoutMs: CLUSTER_LIMITS.dnsResolves, intervalMs: 2000, blame: "infrastructure" },
    );
    expect(answer.split(/\s+/)[0]).toBe(svc.spec?.clusterIP);
    expect(answer).toContain("kubernetes.default.svc.cluster.local");
  });
});
