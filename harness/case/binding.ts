/**
 * Binding checks shared by two catalog areas (BD-07 and LP-02 assert the same upstream behaviour
 * from two angles): volumes on two workers, a WaitForFirstConsumer class, and the claim that must
 * wait for a pod before it binds to the PV on that pod's node.
 */
import { driverTimeout } from "../drivers/timeouts.ts";
import { expect } from "vitest";
import { holdsFor } from "../core/wait.ts";
import { holdWindow } from "../drivers/timeouts.ts";
import { createClaim, readClaim, waitForClaimPhase } from "../k8s/claims.ts";
import { latestEvent } from "../k8s/events.ts";
import { claimSize } from "./sizes.ts";
import { waitForPodReady } from "../k8s/pods.ts";
import { HOLD } from "./limits.ts";
import type { CaseContext } from "./types.ts";
import { podWithClaim, staticVolume } from "./volumes.ts";

/** Worker holding the data, and the other worker (gate the case with `requires.workers: 2`). */
export function placement(c: CaseContext): { home: string; away: string } {
  const [away, home] = c.workers;
  if (!home || !away)
    throw new Error(`two workers needed, the run has ${c.workers.length}: gate with requires.workers`);
  return { home, away };
}

/** The case's StorageClass for static volumes, binding at first consumer (deleted with the case). */
export async function storageClassWFFC(c: CaseContext): Promise<void> {
  await c.kube.apply({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: c.ns, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
  });
  c.defer({ [Symbol.asyncDispose]: async () => void (await c.kube.deleteIfExists("StorageClass", c.ns)) }, "class");
}

/** WaitForFirstConsumer: the claim stays Pending until a pod picks a node, then binds there. */
export async function waitForFirstConsumer(c: CaseContext): Promise<void> {
  const { home, away } = placement(c);
  await storageClassWFFC(c);
  const homePv = await staticVolume(c, "home", { node: home });
  await staticVolume(c, "away", { node: away });
  await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
  await holdsFor(
    "claim stays Pending until its first consumer",
    async () => {
      const s = await readClaim(c.kube, c.ns, "claim");
      return {
        holds: s.phase === "Pending",
        seen: `phase ${s.phase}${s.volumeName ? ` (volume ${s.volumeName})` : ""}`,
      };
    },
    { durationMs: holdWindow(c.driver, HOLD.pendingClaim), blame: "driver" },
  );
  expect(await latestEvent(c.kube, c.ns, "PersistentVolumeClaim", "claim")).toMatch(/WaitForFirstConsumer/);
  await c.createPod(podWithClaim("consumer", "claim", { nodeSelector: { "kubernetes.io/hostname": home } }));
  const bound = await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", {
    timeoutMs: driverTimeout(c.driver, "claimBound"),
  });
  expect(bound.volumeName, "bound to the PV on the pod's node").toBe(homePv.pvName);
  const pod = await waitForPodReady(c.kube, c.ns, "consumer", driverTimeout(c.driver, "podStart"));
  expect(pod.spec?.nodeName).toBe(home);
}
