/**
 * Dynamic provisioning helpers: a StorageClass per case (a clone of the driver's first class,
 * named after the case namespace, with the case's overrides), claims and pods on it, and checks of
 * the volume's data on the nodes (driver's volumeDataPaths).
 */
import { HarnessBug } from "../core/errors.ts";
import { waitFor } from "../core/wait.ts";
import { storageClassManifest } from "../drivers/csi.ts";
import type { StorageClassDef } from "../drivers/schema.ts";
import { driverTimeout } from "../drivers/timeouts.ts";
import { presentPaths } from "../nodes/paths.ts";
import { recordParameter } from "../evidence/allure.ts";
import { createClaim, waitForClaimPhase, type ClaimState } from "../k8s/claims.ts";
import { gone } from "../k8s/conditions.ts";
import type { V1PersistentVolume } from "../k8s/kube.ts";
import { waitForPodReady } from "../k8s/pods.ts";
import type { CaseContext } from "./types.ts";
import { podWithClaim } from "./volumes.ts";
import { claimSize } from "./sizes.ts";

/** Creates the case's StorageClass (deleted when the case ends) and returns its name. */
export async function caseStorageClass(
  c: CaseContext,
  overrides: Partial<StorageClassDef> = {},
): Promise<StorageClassDef> {
  const d = c.driver;
  const base = d?.spec.storageClasses[0];
  if (!d || !base)
    throw new HarnessBug("dynamic cases need a driver with a StorageClass (gate them with requires.dynamic)");
  const sc: StorageClassDef = { ...base, ...overrides, name: c.ns };
  await c.kube.apply(storageClassManifest(sc, d));
  c.defer({ [Symbol.asyncDispose]: async () => void (await c.kube.deleteIfExists("StorageClass", sc.name)) });
  await recordParameter(
    "storage class",
    `${sc.name}: ${sc.provisioner}, ${sc.volumeBindingMode}, reclaim ${sc.reclaimPolicy}${sc.mountOptions.length ? `, mountOptions ${sc.mountOptions.join(",")}` : ""}`,
  );
  return sc;
}

/** A Block-mode claim of the driver's size on the case's StorageClass (created here). */
export async function blockClaim(c: CaseContext, name = "claim"): Promise<void> {
  await caseStorageClass(c);
  await createClaim(c.kube, c.ns, { name, storageClassName: c.ns, size: claimSize(c.driver), volumeMode: "Block" });
}

export interface ProvisionedVolume {
  claim: ClaimState;
  pv: V1PersistentVolume;
}

export async function readPv(c: CaseContext, name: string): Promise<V1PersistentVolume> {
  return c.kube.read("PersistentVolume", name);
}

/** Waits for the claim to bind (a pod must already use it under WaitForFirstConsumer) and remembers its volume for the data checks. */
export async function waitForProvisioned(c: CaseContext, claim: string): Promise<ProvisionedVolume> {
  const state = await waitForClaimPhase(c.kube, c.ns, claim, "Bound", {
    timeoutMs: driverTimeout(c.driver, "claimProvision"),
  });
  const pv = await readPv(c, state.volumeName);
  const handle = pv.spec?.csi?.volumeHandle;
  if (handle) c.trackVolumeData(dataPaths(c, pv));
  return { claim: state, pv };
}

export async function podReady(c: CaseContext, name: string): Promise<void> {
  await waitForPodReady(c.kube, c.ns, name, driverTimeout(c.driver, "podStart"));
}

/** The node paths that hold a PV's data, from the driver's volumeDataPaths. */
export function dataPaths(c: CaseContext, pv: V1PersistentVolume): string[] {
  const name = pv.metadata?.name ?? "";
  const handle = pv.spec?.csi?.volumeHandle ?? name;
  return (c.driver?.spec.volumeDataPaths ?? []).map((p) =>
    p.replaceAll("{volumeHandle}", handle).replaceAll("{pv}", name),
  );
}

/** Named, bounded wait until the volume data is gone from every node. */
export async function waitForDataGone(c: CaseContext, paths: readonly string[]): Promise<void> {
  await waitFor(
    `volume data removed from every node (${paths.join(", ")})`,
    async () => {
      const left = await presentPaths(c.nodes, paths);
      return { done: left.length === 0, seen: left.length ? `still present on ${left.join("; ")}` : "gone" };
    },
    { timeoutMs: driverTimeout(c.driver, "pvDelete"), intervalMs: 2000, blame: "driver" },
  );
}

export async function waitForPvGone(c: CaseContext, pv: string): Promise<void> {
  await waitFor(`PV ${pv} deleted`, gone(c.kube, "PersistentVolume", pv), {
    timeoutMs: driverTimeout(c.driver, "pvDelete"),
    intervalMs: 1000,
    blame: "driver",
  });
}

/** Parses a Kubernetes quantity into bytes (binary and decimal suffixes). */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(q.trim());
  if (!m) throw new HarnessBug(`not a quantity: ${q}`);
  const mult: Record<string, number> = {
    "": 1,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
  };
  return Number(m[1]) * (mult[m[2] ?? ""] as number);
}

/** A claim on the case's class and a pod that uses it (so WaitForFirstConsumer classes bind too). */
export async function claimWithPod(
  c: CaseContext,
  opts: { claim?: string; pod?: string; size?: string; node?: string; accessModes?: string[] } = {},
): Promise<{ claim: string; pod: string }> {
  const claim = opts.claim ?? "claim";
  const pod = opts.pod ?? `pod-${claim}`;
  await createClaim(c.kube, c.ns, {
    name: claim,
    storageClassName: c.ns,
    size: opts.size ?? claimSize(c.driver),
    ...(opts.accessModes ? { accessModes: opts.accessModes } : {}),
  });
  await c.createPod(podWithClaim(pod, claim, opts.node ? { nodeName: opts.node } : {}));
  return { claim, pod };
}
