/**
 * BD: PersistentVolumeClaim binding with static volumes (the PV controller's contract). Each case
 * uses its own storage class name (the namespace), so no case can bind another case's volumes.
 */
import { expect } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import {
  createClaim,
  deleteClaimAndWait,
  readClaim,
  waitForClaimPhase,
  waitForPvPhase,
} from "../../harness/k8s/claims.ts";
import { gone } from "../../harness/k8s/conditions.ts";
import { deletePodAndWait, waitForPodReady } from "../../harness/k8s/pods.ts";
import { holdsFor, waitFor } from "../../harness/core/wait.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { podWithClaim, staticVolume } from "../../harness/case/volumes.ts";
import { waitForFirstConsumer } from "../../harness/case/binding.ts";
import { HOLD } from "../../harness/case/limits.ts";
import { claimSize } from "../../harness/case/sizes.ts";

const area = "PVC binding";
// Static binding needs volumes an administrator can create by hand: in-tree and FlexVolume sources.
const requires = { types: ["in-tree" as const, "flexvolume" as const], capabilities: ["persistence" as const] };

/** A pod on the volume's node writes a seeded pattern through the claim; the checksum must match. */
async function podWrites(c: CaseContext, claim: string, node: string): Promise<void> {
  const p = newPattern(128 * 1024);
  await recordParameter(`seed (${claim})`, p.seed);
  const name = `writer-${claim}`;
  await c.createPod(podWithClaim(name, claim, { nodeName: node }));
  await waitForPodReady(c.kube, c.ns, name, driverTimeout(c.driver, "podStart"));
  const written = (await c.kube.execInPod(c.ns, name, writeScript(p, "/data/pattern"))).trim();
  const read = (await c.kube.execInPod(c.ns, name, readChecksumScript("/data/pattern"))).trim();
  const expected = await expectedChecksum(p);
  expect(written).toBe(expected);
  expect(read).toBe(expected);
  await deletePodAndWait(c.kube, c.ns, name, driverTimeout(c.driver, "podDelete"));
}

function orderCase(id: string, title: string, preBound: boolean, claimFirst: boolean): Case {
  return {
    meta: {
      id,
      area,
      title,
      requires,
      asserts: "claim and volume bind to each other within the timeout, and a pod writes through the claim",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      const makeVolume = () =>
        staticVolume(c, "pv", { node, ...(preBound ? { claimRef: { namespace: c.ns, name: "claim" } } : {}) });
      const makeClaim = () =>
        createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      let pv;
      if (claimFirst) {
        await makeClaim();
        expect((await readClaim(c.kube, c.ns, "claim")).phase).toBe("Pending");
        pv = await makeVolume();
      } else {
        pv = await makeVolume();
        await makeClaim();
      }
      const bound = await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", {
        timeoutMs: driverTimeout(c.driver, "claimBound"),
      });
      expect(bound.volumeName).toBe(pv.pvName);
      await podWrites(c, "claim", node);
    },
  };
}

export const BINDING_CASES: Case[] = [
  orderCase("BD-01", "pre-bound PV, then the claim", true, false),
  orderCase("BD-02", "claim, then a PV pre-bound to it", true, true),
  orderCase("BD-03", "unbound PV, then a matching claim", false, false),
  orderCase("BD-04", "claim, then a matching unbound PV", false, true),
  {
    meta: {
      id: "BD-05",
      area,
      title: "best fit, and selectors that match nothing",
      requires,
      asserts:
        "a 3Gi claim binds the 5Gi PV out of 1Gi/5Gi/10Gi; a claim whose label selector matches no PV stays Pending",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      for (const [suffix, size] of [
        ["1g", "1Gi"],
        ["5g", "5Gi"],
        ["10g", "10Gi"],
      ] as const) {
        await staticVolume(c, suffix, { node, capacity: size, labels: { "volcert.io/case": c.ns, size } });
      }
      await createClaim(c.kube, c.ns, { name: "fit", storageClassName: c.ns, size: "3Gi" });
      const bound = await waitForClaimPhase(c.kube, c.ns, "fit", "Bound", {
        timeoutMs: driverTimeout(c.driver, "claimBound"),
      });
      expect(bound.volumeName).toBe(`${c.ns}-5g`);
      await createClaim(c.kube, c.ns, {
        name: "nomatch",
        storageClassName: c.ns,
        size: "1Gi",
        selector: { size: "2Gi" },
      });
      await createClaim(c.kube, c.ns, {
        name: "wrongmode",
        storageClassName: c.ns,
        size: "1Gi",
        accessModes: ["ReadWriteMany"],
      });
      // Give the PV controller several sync periods to (wrongly) bind them.
      await holdsFor(
        "claim nomatch (no PV matches its selector) stays unbound",
        async () => {
          const s = await readClaim(c.kube, c.ns, "nomatch");
          return {
            holds: s.phase !== "Bound",
            seen: `phase ${s.phase}${s.volumeName ? ` (volume ${s.volumeName})` : ""}`,
          };
        },
        { durationMs: holdWindow(c.driver, HOLD.unboundClaim), blame: "driver" },
      );
      expect((await readClaim(c.kube, c.ns, "wrongmode")).phase).toBe("Pending");
    },
  },
  {
    meta: {
      id: "BD-06",
      area,
      title: "many to many: 2 PVs for 4 claims, 4 PVs for 2 claims",
      requires,
      asserts: "exactly min(PVs, claims) claims bind and no PV is bound twice",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      const check = async (pvs: number, claims: number, tag: string) => {
        for (let i = 0; i < pvs; i++)
          await staticVolume(c, `${tag}pv${i}`, { node, storageClassName: `${c.ns}-${tag}` });
        for (let i = 0; i < claims; i++)
          await createClaim(c.kube, c.ns, {
            name: `${tag}c${i}`,
            storageClassName: `${c.ns}-${tag}`,
            size: claimSize(c.driver),
          });
        const expectedBound = Math.min(pvs, claims);
        const states = await waitFor(
          `${expectedBound} of ${claims} claims bound (${tag})`,
          async () => {
            const all = await Promise.all(
              Array.from({ length: claims }, (_, i) => readClaim(c.kube, c.ns, `${tag}c${i}`)),
            );
            const bound = all.filter((s) => s.phase === "Bound");
            return { done: bound.length >= expectedBound, value: all, seen: all.map((s) => s.phase).join(",") };
          },
          { timeoutMs: driverTimeout(c.driver, "claimBound"), intervalMs: 1000, blame: "driver" },
        );
        const volumes = states.filter((s) => s.phase === "Bound").map((s) => s.volumeName);
        expect(volumes).toHaveLength(expectedBound);
        expect(new Set(volumes).size, "a PV bound to two claims").toBe(volumes.length);
      };
      await check(2, 4, "a");
      await check(4, 2, "b");
    },
  },
  {
    meta: {
      id: "BD-07",
      area,
      title: "WaitForFirstConsumer: the claim binds once a pod uses it, on that pod's node",
      requires: { ...requires, capabilities: ["persistence" as const, "topology" as const] },
      asserts: "the claim stays Pending until a pod uses it, then binds to a volume on the pod's node",
    },
    body: waitForFirstConsumer,
  },
  {
    meta: {
      id: "BD-08",
      area,
      title: "protection finalizers keep in-use claims and bound PVs",
      requires,
      asserts:
        "a claim used by a pod stays Terminating until the pod is gone; a bound PV stays Terminating until its claim is gone",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      const pv = await staticVolume(c, "pv", { node });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForClaimPhase(c.kube, c.ns, "claim", "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
      await c.createPod(podWithClaim("user", "claim", { nodeName: node }));
      await waitForPodReady(c.kube, c.ns, "user", driverTimeout(c.driver, "podStart"));
      await c.kube.delete("PersistentVolumeClaim", "claim", c.ns);
      await c.kube.delete("PersistentVolume", pv.pvName);
      const claimObj = await c.kube.core.readNamespacedPersistentVolumeClaim({ namespace: c.ns, name: "claim" });
      expect(claimObj.metadata?.deletionTimestamp, "claim marked for deletion").toBeTruthy();
      expect(claimObj.metadata?.finalizers).toContain("kubernetes.io/pvc-protection");
      const pvObj = await c.kube.core.readPersistentVolume({ name: pv.pvName });
      expect(pvObj.metadata?.finalizers).toContain("kubernetes.io/pv-protection");
      await deletePodAndWait(c.kube, c.ns, "user", driverTimeout(c.driver, "podDelete"));
      await waitFor("claim gone once its pod is gone", gone(c.kube, "PersistentVolumeClaim", "claim", c.ns), {
        timeoutMs: driverTimeout(c.driver, "claimBound"),
        blame: "driver",
      });
      await waitFor(`PV ${pv.pvName} Gone`, gone(c.kube, "PersistentVolume", pv.pvName), {
        timeoutMs: driverTimeout(c.driver, "pvDelete"),
        intervalMs: 1000,
        blame: "driver",
      });
    },
  },
  {
    meta: {
      id: "BD-09",
      area,
      title: "phase transitions Available → Bound → Released are timestamped",
      requires,
      asserts: "each PV phase is observed and lastPhaseTransitionTime moves forward",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      const pv = await staticVolume(c, "pv", { node, reclaimPolicy: "Retain" });
      const stamp = async () =>
        (await c.kube.core.readPersistentVolume({ name: pv.pvName })).status?.lastPhaseTransitionTime;
      await waitForPvPhase(c.kube, pv.pvName, "Available", driverTimeout(c.driver, "claimBound"));
      const t1 = await stamp();
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await waitForPvPhase(c.kube, pv.pvName, "Bound", driverTimeout(c.driver, "claimBound"));
      const t2 = await stamp();
      await deleteClaimAndWait(c.kube, c.ns, "claim", driverTimeout(c.driver, "claimBound"));
      await waitForPvPhase(c.kube, pv.pvName, "Released", driverTimeout(c.driver, "claimBound"));
      const t3 = await stamp();
      await recordParameter("transitions", `Available ${String(t1)} → Bound ${String(t2)} → Released ${String(t3)}`);
      expect(t1 && t2 && t3, "lastPhaseTransitionTime set in every phase").toBeTruthy();
      expect(new Date(t2 as Date).getTime()).toBeGreaterThanOrEqual(new Date(t1 as Date).getTime());
      expect(new Date(t3 as Date).getTime()).toBeGreaterThanOrEqual(new Date(t2 as Date).getTime());
    },
  },
];
