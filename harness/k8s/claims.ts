/**
 * PersistentVolumeClaim helpers: manifests and named waits that report the claim's phase and its
 * latest event when they time out.
 */
import { waitFor, type WaitOptions } from "../core/wait.ts";
import type { Kube } from "./kube.ts";

export interface ClaimSpec {
  name: string;
  storageClassName: string;
  size: string;
  accessModes?: string[];
  volumeMode?: "Filesystem" | "Block";
  volumeName?: string;
  selector?: Record<string, string>;
}

export function claimManifest(c: ClaimSpec): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: c.name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    spec: {
      storageClassName: c.storageClassName,
      accessModes: c.accessModes ?? ["ReadWriteOnce"],
      volumeMode: c.volumeMode ?? "Filesystem",
      resources: { requests: { storage: c.size } },
      ...(c.volumeName ? { volumeName: c.volumeName } : {}),
      ...(c.selector ? { selector: { matchLabels: c.selector } } : {}),
    },
  };
}

export async function createClaim(kube: Kube, ns: string, c: ClaimSpec): Promise<void> {
  await kube.kubectl(["apply", "-n", ns, "-f", "-"], { input: JSON.stringify(claimManifest(c)) });
}

export interface ClaimState {
  phase: string;
  volumeName: string;
  capacity: string;
}

export async function readClaim(kube: Kube, ns: string, name: string): Promise<ClaimState> {
  const pvc = await kube.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name });
  return {
    phase: pvc.status?.phase ?? "Unknown",
    volumeName: pvc.spec?.volumeName ?? "",
    capacity: pvc.status?.capacity?.["storage"] ?? "",
  };
}

export async function latestEvent(kube: Kube, ns: string, kind: string, name: string): Promise<string> {
  const r = await kube.kubectl(
    [
      "get",
      "events",
      "-n",
      ns,
      "--field-selector",
      `involvedObject.kind=${kind},involvedObject.name=${name}`,
      "--sort-by=.lastTimestamp",
      "-o",
      'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}',
    ],
    { nothrow: true },
  );
  return r.stdout.trim().split("\n").pop() ?? "";
}

export async function waitForClaimPhase(
  kube: Kube,
  ns: string,
  name: string,
  phase: string,
  opts: Partial<WaitOptions> = {},
): Promise<ClaimState> {
  return waitFor(
    `PVC ${ns}/${name} ${phase}`,
    async () => {
      const s = await readClaim(kube, ns, name);
      const ev = s.phase === phase ? "" : await latestEvent(kube, ns, "PersistentVolumeClaim", name);
      return {
        done: s.phase === phase,
        value: s,
        seen: `phase ${s.phase}${s.volumeName ? ` (volume ${s.volumeName})` : ""}${ev ? `; last event ${ev}` : ""}`,
      };
    },
    { timeoutMs: 120_000, intervalMs: 1000, blame: "driver", ...opts },
  );
}

export async function pvPhase(kube: Kube, pv: string): Promise<string> {
  const r = await kube.kubectl(["get", "pv", pv, "-o", "jsonpath={.status.phase}"], { nothrow: true });
  return r.ok ? r.stdout.trim() : "Gone";
}

export async function waitForPvPhase(kube: Kube, pv: string, phase: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `PV ${pv} ${phase}`,
    async () => {
      const p = await pvPhase(kube, pv);
      return { done: p === phase, seen: `phase ${p}` };
    },
    { timeoutMs, intervalMs: 1000, blame: "driver" },
  );
}
