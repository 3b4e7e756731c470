/**
 * Whose is a claim that stays Pending, or a pod that stays unscheduled for its claims? Binding
 * has three parties: the driver (or volcert, for a static PV) makes a PersistentVolume for the
 * claim, with `spec.claimRef` naming it; the PV controller in kube-controller-manager binds the
 * two (the claim's `volumeName`, both phases Bound); kube-scheduler, told that the claim changed,
 * retries the pods waiting for it. When a volume made for the claim exists and would satisfy it
 * and the claim is still Pending a while later, or every claim of a pod has long been Bound and the
 * scheduler's last word on the pod is still "unbound immediate PersistentVolumeClaims", the driver
 * has done its part: the wait's timeout is the control plane's, not the driver's.
 *
 * Seen on this machine (main job of 2026-12-03, NF-08 on csi-netstore): the claim provisioned and
 * Bound 2 s after it was made, its pod's two scheduling attempts before that failed with "pod has
 * unbound immediate PersistentVolumeClaims", and the scheduler never tried again in 180 s (it
 * retries unschedulable pods on a claim update, or after 5 minutes at the latest; the same stall is
 * reported upstream as kubernetes/kubernetes#87145). volcert reported it as the driver's.
 *
 * A volume made for the claim that can never satisfy it (smaller than the request, another
 * volume mode or access modes, already being deleted) is the maker's defect, and the observation
 * says exactly why the controller will not bind it (the checks the PV controller makes of a volume
 * already naming the claim: component-helpers' FindMatchingVolume and its access-mode index).
 */
import type { Blame } from "../core/errors.ts";
import { quantityToBytes } from "../drivers/quantity.ts";
import type { Kube, Model } from "./kube.ts";

/** How long a satisfying volume may wait for the PV controller before that is the controller's failure. */
export const BINDING_GRACE_MS = 30_000;

export interface BindingStall {
  /** Whose the Pending claim is now. */
  blame: Blame;
  seen: string;
}

type Claim = Model<"PersistentVolumeClaim">;
type Volume = Model<"PersistentVolume">;
type Pod = Model<"Pod">;

/** What the scheduler says when a pod's Immediate claims are not bound yet (VolumeBinding plugin). */
const UNBOUND = "unbound immediate PersistentVolumeClaims";

/** The claim is Pending and a volume names it in its claimRef: whose is the wait now? Undefined: no such volume. */
export async function bindingStall(kube: Kube, claim: Claim, now = Date.now()): Promise<BindingStall | undefined> {
  if (claim.status?.phase !== "Pending") return undefined;
  const volumes = await kube.list("PersistentVolume");
  return judgeBinding(claim, volumes, now);
}

/** The pure half of bindingStall (tested on objects recorded from a real cluster). */
export function judgeBinding(claim: Claim, volumes: readonly Volume[], now: number): BindingStall | undefined {
  const ns = claim.metadata?.namespace;
  const name = claim.metadata?.name;
  const uid = claim.metadata?.uid;
  const made = volumes.filter((pv) => {
    const ref = pv.spec?.claimRef;
    return ref?.namespace === ns && ref?.name === name && (!ref?.uid || !uid || ref.uid === uid);
  });
  const pv = made[0];
  if (!pv) return undefined;
  const pvName = pv.metadata?.name ?? "?";
  const why = mismatches(claim, pv);
  if (why.length)
    return {
      blame: "driver",
      seen: `PV ${pvName} was made for claim ${ns}/${name} but can never bind it: ${why.join("; ")}`,
    };
  const created = pv.metadata?.creationTimestamp ? new Date(pv.metadata.creationTimestamp).getTime() : now;
  const age = Math.max(0, Math.round((now - created) / 1000));
  const state = `PV ${pvName} (phase ${pv.status?.phase ?? "Unknown"}) was made for claim ${ns}/${name} ${age} s ago and satisfies it`;
  if (now - created < BINDING_GRACE_MS)
    return { blame: "driver", seen: `${state}; the PV controller has not bound them yet` };
  return {
    blame: "infrastructure",
    seen: `${state}, but the PV controller (kube-controller-manager) has not bound them: the driver did its part, the control plane is behind`,
  };
}

/** Why the PV controller will not bind this claim to this volume made for it (empty: it will). */
function mismatches(claim: Claim, pv: Volume): string[] {
  const out: string[] = [];
  const want = claim.spec?.resources?.requests?.["storage"];
  const has = pv.spec?.capacity?.["storage"];
  const wantBytes = want ? quantityToBytes(String(want)) : null;
  const hasBytes = has ? quantityToBytes(String(has)) : null;
  if (wantBytes !== null && hasBytes !== null && hasBytes < wantBytes)
    out.push(`capacity ${String(has)} is less than the ${String(want)} requested`);
  const claimMode = claim.spec?.volumeMode ?? "Filesystem";
  const pvMode = pv.spec?.volumeMode ?? "Filesystem";
  if (claimMode !== pvMode) out.push(`volumeMode ${pvMode}, the claim asks for ${claimMode}`);
  const modes = pv.spec?.accessModes ?? [];
  const missing = (claim.spec?.accessModes ?? []).filter((m) => !modes.includes(m));
  if (missing.length) out.push(`access modes ${modes.join(", ") || "none"} lack ${missing.join(", ")}`);
  if (pv.metadata?.deletionTimestamp) out.push("it is being deleted");
  // A volume made for the claim (claimRef set) is not checked for its class or phase by the controller.
  return out;
}

/** The pod is not scheduled: is it waiting on its claims, and whose is that wait? Undefined: not on its claims. */
export async function podBindingStall(kube: Kube, pod: Pod, now = Date.now()): Promise<BindingStall | undefined> {
  if (pod.spec?.nodeName) return undefined;
  const names = (pod.spec?.volumes ?? []).flatMap((v) => v.persistentVolumeClaim?.claimName ?? []);
  if (!names.length) return undefined;
  const claims = [];
  for (const n of names) {
    const claim = await kube.readIfExists("PersistentVolumeClaim", n, pod.metadata?.namespace);
    if (!claim) return undefined;
    claims.push(claim);
  }
  const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  // The volumes are listed only when the claims can explain the wait.
  if (!claims.some((c) => c.status?.phase === "Pending") && !unscheduled?.message?.includes(UNBOUND)) return undefined;
  return judgePodBinding(pod, claims, await kube.list("PersistentVolume"), now);
}

/** The pure half of podBindingStall. */
export function judgePodBinding(
  pod: Pod,
  claims: readonly Claim[],
  volumes: readonly Volume[],
  now: number,
): BindingStall | undefined {
  if (pod.spec?.nodeName) return undefined;
  const pending = claims.filter((c) => c.status?.phase === "Pending");
  if (pending.length) {
    const stalls = pending.map(
      (c) =>
        judgeBinding(c, volumes, now) ?? {
          blame: "driver" as const,
          seen: `claim ${c.metadata?.name} Pending with no volume made for it`,
        },
    );
    // Only when every Pending claim waits on the control plane is the pod's wait its.
    const blame = stalls.every((s) => s.blame === "infrastructure") ? "infrastructure" : "driver";
    return { blame, seen: stalls.map((s) => s.seen).join("; ") };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (!scheduled?.message?.includes(UNBOUND) || claims.some((c) => c.status?.phase !== "Bound")) return undefined;
  // When the last claim bound: its PV's last phase transition (claims have no such timestamp).
  const boundAt = claims.map((c) => {
    const pv = volumes.find((v) => v.metadata?.name === c.spec?.volumeName);
    const t = pv?.status?.lastPhaseTransitionTime;
    return pv?.status?.phase === "Bound" && t ? new Date(t).getTime() : NaN;
  });
  if (boundAt.some((t) => Number.isNaN(t))) return undefined;
  const since = Math.round((now - Math.max(...boundAt)) / 1000);
  if (since * 1000 < BINDING_GRACE_MS) return undefined;
  const names = claims.map((c) => `${c.metadata?.name} (volume ${c.spec?.volumeName})`).join(", ");
  return {
    blame: "infrastructure",
    seen: `every claim of the pod has been Bound for ${since} s (${names}), yet the scheduler's last word on the pod is still "${scheduled.message.trim()}": kube-scheduler has not tried the pod again since its claims bound (the control plane's failure, not the driver's)`,
  };
}
