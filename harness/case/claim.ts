/**
 * A claim for a case, whatever the driver kind: static drivers (in-tree, FlexVolume) get a PV made
 * on `node` and a claim bound to it; dynamic drivers (CSI) get a claim on the case's StorageClass,
 * provisioned when the first pod uses it. Pods are placed with a hostname node selector, never
 * nodeName: a pod that bypasses the scheduler never triggers WaitForFirstConsumer provisioning.
 */
import { HarnessBug } from "../core/errors.ts";
import { driverTimeout } from "../drivers/timeouts.ts";
import { createClaim, deleteClaimAndWait, readClaim, waitForClaimPhase } from "../k8s/claims.ts";
import type { StaticVolume } from "../drivers/intree.ts";
import { waitForPodReady } from "../k8s/pods.ts";
import type { V1Pod } from "../k8s/kube.ts";
import type { CaseContext } from "./types.ts";
import { caseStorageClass, waitForProvisioned, waitForPvGone } from "./dynamic.ts";
import { claimSize } from "./sizes.ts";
import { podWithClaim, staticVolume } from "./volumes.ts";

/** The static volumes caseClaim made, per case and claim (what deleteCaseClaim removes with the claim). */
const staticVolumes = new WeakMap<CaseContext, Map<string, StaticVolume>>();

export async function caseClaim(
  c: CaseContext,
  node: string,
  opts: { name?: string; accessModes?: string[] } = {},
): Promise<string> {
  const name = opts.name ?? "claim";
  const accessModes = opts.accessModes ?? ["ReadWriteOnce"];
  if (c.driver?.spec.type === "csi") {
    if (!c.driver.spec.storageClasses.length)
      throw new HarnessBug(`${c.driver.metadata.name} has no StorageClass: the case's gate should have skipped it`);
    const cls = (await c.kube.readIfExists("StorageClass", c.ns)) ?? (await caseStorageClass(c));
    await createClaim(c.kube, c.ns, { name, storageClassName: c.ns, size: claimSize(c.driver), accessModes });
    // Under Immediate binding the claim is bound before its pod exists: a pod the scheduler first
    // sees with an unbound claim may wait for its retry long after the claim binds (seen once in
    // NF-08 for 180 s, binding-stall.ts), a flake of the control plane that the case is not about.
    if (cls.volumeBindingMode !== "WaitForFirstConsumer")
      await waitForClaimPhase(c.kube, c.ns, name, "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
    return name;
  }
  const volume = await staticVolume(c, `pv-${name}`, { node, accessModes });
  staticVolumes.set(c, (staticVolumes.get(c) ?? new Map<string, StaticVolume>()).set(name, volume));
  await createClaim(c.kube, c.ns, { name, storageClassName: c.ns, size: claimSize(c.driver), accessModes });
  await waitForClaimPhase(c.kube, c.ns, name, "Bound", { timeoutMs: driverTimeout(c.driver, "claimBound") });
  return name;
}

/**
 * Deletes a claim of caseClaim and its volume, and returns the PV's name: the claim (waited until
 * gone, its pods must be gone first), then for static drivers the PV and its storage on the node,
 * for dynamic drivers the PV and its volume (deleted by the driver, reclaim Delete set if it was Retain).
 */
export async function deleteCaseClaim(c: CaseContext, name: string): Promise<string> {
  const pv = (await readClaim(c.kube, c.ns, name)).volumeName;
  const volume = staticVolumes.get(c)?.get(name);
  // A provisioned PV under Retain would keep its volume on the backend: switch it to Delete first,
  // so the driver removes the volume itself (as RP-02 does).
  if (!volume)
    await c.kube.mergePatch("PersistentVolume", pv, undefined, { spec: { persistentVolumeReclaimPolicy: "Delete" } });
  await deleteClaimAndWait(c.kube, c.ns, name, driverTimeout(c.driver, "pvDelete"));
  if (volume) await volume[Symbol.asyncDispose]();
  else await waitForPvGone(c, pv);
  return pv;
}

export const onNode = (node: string) => ({ nodeSelector: { "kubernetes.io/hostname": node } });

/** Starts a workload pod using `claim` on `node` and waits until it is Ready (and, for CSI, the claim is provisioned). */
export async function startPodOn(
  c: CaseContext,
  name: string,
  claim: string,
  node: string,
  readOnly = false,
): Promise<V1Pod> {
  await c.createPod(podWithClaim(name, claim, { ...onNode(node), readOnly }));
  const pod = await waitForPodReady(c.kube, c.ns, name, driverTimeout(c.driver, "podStart"));
  if (c.driver?.spec.type === "csi") await waitForProvisioned(c, claim);
  return pod;
}
