/**
 * VM: volume modes. A Block volume is a raw device in the pod; asking for it the wrong way must
 * fail visibly, and its data must outlive the pod like a filesystem's.
 */
import { expect } from "vitest";
import { DriverDefect } from "../../harness/core/errors.ts";
import { Verdict, waitFor } from "../../harness/core/wait.ts";
import { blockReadChecksumScript, blockWriteScript, expectedChecksum, newPattern } from "../../harness/data/pattern.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { listEvents, eventLine } from "../../harness/k8s/events.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import { onNode } from "../../harness/case/claim.ts";
import { blockClaim, podReady, waitForProvisioned } from "../../harness/case/dynamic.ts";
import type { Case } from "../../harness/case/runtime.ts";
import { blockPodWithClaim, podWithClaim } from "../../harness/case/volumes.ts";

const area = "volume mode";
const block = { dynamic: true, capabilities: ["persistence" as const, "block" as const] };

export const VOLUME_MODE_CASES: Case[] = [
  {
    meta: {
      id: "VM-02",
      area,
      title: "a Block volume listed under volumeMounts is refused with a mode-mismatch event, the pod stays Pending",
      requires: block,
      asserts:
        "a pod that mounts a Block claim as a filesystem never runs: it stays Pending and an event names the volume mode mismatch",
    },
    body: async (c) => {
      await blockClaim(c);
      await c.createPod(podWithClaim("wrong", "claim"));
      const line = await waitFor(
        "an event of pod wrong naming the volume mode mismatch",
        async () => {
          const events = await listEvents(c.kube, c.ns, { kind: "Pod", name: "wrong" });
          const hit = events.map(eventLine).find((l) => /volumeMode|volumeDevices|volumeMounts|block/i.test(l));
          const pod = await c.kube.read("Pod", "wrong", c.ns);
          if (pod.status?.phase === "Running")
            throw new Verdict(new DriverDefect("pod wrong runs with a Block volume mounted as a filesystem"));
          return {
            done: !!hit,
            seen: `phase ${pod.status?.phase}; ${events.map(eventLine).slice(-3).join(" | ") || "no events"}`,
            value: hit,
          };
        },
        { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 2000, blame: "driver" },
      );
      c.timeline.mark(`refused: ${line}`);
      expect((await c.kube.read("Pod", "wrong", c.ns)).status?.phase).toBe("Pending");
    },
  },
  {
    meta: {
      id: "VM-04",
      area,
      title: "data written to a raw device survives pod re-creation (on another node unless singleNodeVolume)",
      requires: block,
      asserts:
        "a seeded MiB written with direct I/O to a Block volume reads back with direct I/O from a new pod, on another worker when the driver is not singleNodeVolume",
    },
    body: async (c) => {
      await blockClaim(c);
      const first = c.workers[0] as string;
      await c.createPod(blockPodWithClaim("writer", "claim", onNode(first)));
      await podReady(c, "writer");
      await waitForProvisioned(c, "claim");
      const p = newPattern(1024 * 1024);
      await recordParameter("seed", p.seed);
      expect((await c.kube.execInPod(c.ns, "writer", blockWriteScript(p, "/dev/xvda"))).trim()).toBe(
        await expectedChecksum(p),
      );
      await deletePodAndWait(c.kube, c.ns, "writer", driverTimeout(c.driver, "podDelete"));
      const second = c.driver.spec.capabilities.singleNodeVolume ? first : (c.workers[1] ?? first);
      await recordParameter("reader's node", second);
      await c.createPod(blockPodWithClaim("reader", "claim", onNode(second)));
      await podReady(c, "reader");
      expect((await c.kube.execInPod(c.ns, "reader", blockReadChecksumScript("/dev/xvda"))).trim()).toBe(
        await expectedChecksum(p),
      );
    },
  },
];
