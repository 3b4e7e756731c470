/**
 * DP-10's measurement: N claims, each with a pod, created together; the time from each claim's
 * creation to Bound and from each pod's creation to Running, sampled every 250 ms from the API
 * (so figures carry ±250 ms). Reported as figures, never as a pass threshold.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "../../harness/core/wait.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import type { CaseContext } from "../../harness/case/runtime.ts";
import { claimManifest } from "../../harness/k8s/claims.ts";
import type { V1PersistentVolumeClaim } from "../../harness/k8s/kube.ts";
import { podWithClaim } from "../../harness/case/volumes.ts";
import { distribution, type Distribution } from "../../harness/data/stats.ts";
import { claimSize } from "../../harness/case/sizes.ts";

export interface LatencyFigures {
  driver: string;
  claims: number;
  samplingMs: number;
  bound: Distribution;
  running: Distribution;
}

export async function measureLatency(c: CaseContext, n: number): Promise<LatencyFigures> {
  const samplingMs = 250;
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const running = new Map<string, number>();
  // The sampler starts before the first create, so fast bindings are not hidden behind slow creates.
  const sampled = waitFor(
    `${n} claims Bound and ${n} pods Running`,
    async () => {
      const now = Date.now();
      const [claims, pods] = await Promise.all([
        c.kube.core.listNamespacedPersistentVolumeClaim({ namespace: c.ns }),
        c.kube.core.listNamespacedPod({ namespace: c.ns }),
      ]);
      for (const pvc of claims.items) {
        const name = `pvc/${pvc.metadata?.name}`;
        if (pvc.status?.phase === "Bound" && !bound.has(name) && created.has(name))
          bound.set(name, now - (created.get(name) as number));
      }
      for (const pod of pods.items) {
        const name = `pod/${pod.metadata?.name}`;
        if (pod.status?.phase === "Running" && !running.has(name) && created.has(name))
          running.set(name, now - (created.get(name) as number));
      }
      return {
        done: bound.size === n && running.size === n,
        seen: `${created.size / 2}/${n} created, ${bound.size}/${n} Bound, ${running.size}/${n} Running`,
      };
    },
    {
      timeoutMs: driverTimeout(c.driver, "claimProvision") + driverTimeout(c.driver, "podStart"),
      intervalMs: samplingMs,
      blame: "driver",
    },
  );
  sampled.catch(() => undefined); // awaited below; this only keeps an early timeout from being "unhandled"
  // API calls, not kubectl: a process spawn per object would be measured as provisioning time.
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const claim = `claim-${i}`;
      const pod = `pod-${i}`;
      created.set(`pvc/${claim}`, Date.now());
      await c.kube.core.createNamespacedPersistentVolumeClaim({
        namespace: c.ns,
        body: claimManifest({
          name: claim,
          storageClassName: c.ns,
          size: claimSize(c.driver),
        }) as V1PersistentVolumeClaim,
      });
      created.set(`pod/${pod}`, Date.now());
      await c.createPod(podWithClaim(pod, claim));
    }),
  );
  await sampled;
  const figures: LatencyFigures = {
    driver: c.driver.metadata.name,
    claims: n,
    samplingMs,
    bound: distribution([...bound.values()]),
    running: distribution([...running.values()]),
  };
  await writeFile(join(c.runDir, `dp10-${figures.driver}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  return figures;
}
