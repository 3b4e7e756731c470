/**
 * EX: volume expansion. A claim's request is raised; the PV must grow (ControllerExpandVolume),
 * and the size a pod sees must grow with it (NodeExpandVolume): `df` in the pod for filesystems,
 * the device's size for Block. The data written before is checked afterwards, seeded.
 */
import { expect } from "vitest";
import { waitFor } from "../../harness/core/wait.ts";
import {
  blockReadChecksumScript,
  blockWriteScript,
  expectedChecksum,
  newPattern,
  readChecksumScript,
  writeScript,
} from "../../harness/data/pattern.ts";
import { quantityToBytes } from "../../harness/drivers/quantity.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim } from "../../harness/k8s/claims.ts";
import { latestEvent } from "../../harness/k8s/events.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import { caseStorageClass, podReady, quantityBytes, waitForProvisioned } from "../../harness/case/dynamic.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { claimSize } from "../../harness/case/sizes.ts";
import { blockPodWithClaim, podFsBytes, podWithClaim } from "../../harness/case/volumes.ts";

const area = "volume expansion";
const expands = ["persistence" as const, "controllerExpansion" as const];
const MiB = 2 ** 20;

/**
 * How much of a volume's growth a filesystem must pass on to its free size: filesystems keep
 * metadata that grows with them (ext4's inode tables, xfs's allocation groups), never a tenth of it.
 */
const GROWTH_KEPT = 0.9;

/** The claim's request doubled (within the driver's maximum) and the same in MiB. */
function grownSize(c: CaseContext): { from: number; to: number; quantity: string } {
  const from = quantityToBytes(claimSize(c.driver)) ?? 64 * MiB;
  const max = c.driver.spec.sizeRange.max ? (quantityToBytes(c.driver.spec.sizeRange.max) ?? Infinity) : Infinity;
  const to = Math.min(2 * from, max);
  return { from, to, quantity: `${Math.floor(to / MiB)}Mi` };
}

const deviceBytes = async (c: CaseContext, pod: string) =>
  Number((await c.kube.execInPod(c.ns, pod, ["blockdev", "--getsize64", "/dev/xvda"])).trim());

async function resize(c: CaseContext, claim: string, size: string): Promise<void> {
  await c.kube.mergePatch("PersistentVolumeClaim", claim, c.ns, {
    spec: { resources: { requests: { storage: size } } },
  });
  c.timeline.mark(`claim ${claim} request set to ${size}`);
}

/** The claim's state for a wait's message: capacity, conditions and its latest event. */
async function claimSeen(c: CaseContext, claim: string): Promise<string> {
  const pvc = await c.kube.read("PersistentVolumeClaim", claim, c.ns);
  const conditions = (pvc.status?.conditions ?? []).map((x) => `${x.type}${x.message ? ` (${x.message})` : ""}`);
  const ev = await latestEvent(c.kube, c.ns, "PersistentVolumeClaim", claim);
  return `capacity ${pvc.status?.capacity?.["storage"] ?? "?"}, conditions [${conditions.join("; ")}]${ev ? `, last event ${ev}` : ""}`;
}

async function waitPvGrown(c: CaseContext, pv: string, claim: string, bytes: number): Promise<void> {
  await waitFor(
    `PV ${pv} capacity at least ${bytes / MiB} MiB (ControllerExpandVolume)`,
    async () => {
      const cap = (await c.kube.read("PersistentVolume", pv)).spec?.capacity?.["storage"] ?? "0";
      return { done: quantityBytes(cap) >= bytes, seen: `PV ${cap}; claim: ${await claimSeen(c, claim)}` };
    },
    { timeoutMs: driverTimeout(c.driver, "claimProvision"), intervalMs: 1000, blame: "driver" },
  );
}

async function waitClaimGrown(c: CaseContext, claim: string, bytes: number): Promise<void> {
  await waitFor(
    `claim ${claim} capacity at least ${bytes / MiB} MiB, no resize pending`,
    async () => {
      const pvc = await c.kube.read("PersistentVolumeClaim", claim, c.ns);
      const cap = quantityBytes(pvc.status?.capacity?.["storage"] ?? "0");
      const pending = (pvc.status?.conditions ?? []).filter((x) => /Resiz/.test(x.type));
      return { done: cap >= bytes && pending.length === 0, seen: await claimSeen(c, claim) };
    },
    { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 1000, blame: "driver" },
  );
}

/** Waits until the filesystem in the pod has grown from `before` by the volume's growth (less metadata). */
async function waitFsGrown(
  c: CaseContext,
  pod: string,
  before: number,
  size: { from: number; to: number },
): Promise<number> {
  const want = before + GROWTH_KEPT * (size.to - size.from);
  return waitFor(
    `filesystem size in pod ${pod} at least ${Math.round(want / MiB)} MiB (was ${Math.round(before / MiB)} MiB; the volume grew by ${Math.round((size.to - size.from) / MiB)} MiB)`,
    async () => {
      const n = await podFsBytes(c, pod);
      return { done: n >= want, seen: `${(n / MiB).toFixed(1)} MiB`, value: n };
    },
    { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 2000, blame: "driver" },
  );
}

async function claimWithData(
  c: CaseContext,
  pod: string,
  opts: { block?: boolean } = {},
): Promise<{ pv: string; sum: string }> {
  await createClaim(c.kube, c.ns, {
    name: "claim",
    storageClassName: c.ns,
    size: claimSize(c.driver),
    ...(opts.block ? { volumeMode: "Block" as const } : {}),
  });
  await c.createPod(opts.block ? blockPodWithClaim(pod, "claim") : podWithClaim(pod, "claim"));
  await podReady(c, pod);
  const { pv } = await waitForProvisioned(c, "claim");
  // A Block pattern is the 1 MiB blockWriteScript checks; a file pattern can be anything.
  const p = newPattern(opts.block ? MiB : 256 * 1024);
  await recordParameter("seed", p.seed);
  const sum = (
    await c.kube.execInPod(c.ns, pod, opts.block ? blockWriteScript(p, "/dev/xvda") : writeScript(p, "/data/pattern"))
  ).trim();
  expect(sum).toBe(await expectedChecksum(p));
  return { pv: pv.metadata?.name as string, sum };
}

export const EXPANSION_CASES: Case[] = [
  {
    meta: {
      id: "EX-01",
      area,
      title: "a claim whose class does not allow expansion cannot be grown",
      requires: { dynamic: true, capabilities: ["persistence" as const] },
      asserts:
        "on a class with allowVolumeExpansion false, raising a bound claim's request is refused by the API server, and the claim keeps its size",
    },
    body: async (c) => {
      await caseStorageClass(c, { allowVolumeExpansion: false });
      await createClaim(c.kube, c.ns, { name: "claim", storageClassName: c.ns, size: claimSize(c.driver) });
      await c.createPod(podWithClaim("app", "claim"));
      await podReady(c, "app");
      await waitForProvisioned(c, "claim");
      const { quantity } = grownSize(c);
      const err = await resize(c, "claim", quantity).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(err), "the API server's answer to the resize").toMatch(/Forbidden|forbidden|must support resize/);
      const pvc = await c.kube.read("PersistentVolumeClaim", "claim", c.ns);
      expect(pvc.spec?.resources?.requests?.["storage"]).toBe(claimSize(c.driver));
    },
  },
  {
    meta: {
      id: "EX-02",
      area,
      title: "offline expansion: a claim grown while no pod uses it has the new size at the next mount, data intact",
      requires: { dynamic: true, capabilities: [...expands, "offlineExpansion" as const] },
      asserts:
        "with no pod using it, the claim's request is doubled; the PV grows; a new pod then sees the filesystem grown by at least 90 % of the volume's growth, the claim's capacity is the new size with no resize condition left, and the data written before reads back",
    },
    body: async (c) => {
      await caseStorageClass(c, { allowVolumeExpansion: true });
      const { pv, sum } = await claimWithData(c, "writer");
      const before = await podFsBytes(c, "writer");
      await deletePodAndWait(c.kube, c.ns, "writer", driverTimeout(c.driver, "podDelete"));
      const size = grownSize(c);
      await recordParameter("sizes", `${size.from / MiB} MiB → ${size.quantity}; filesystem before ${before} bytes`);
      await resize(c, "claim", size.quantity);
      await waitPvGrown(c, pv, "claim", size.to);
      c.timeline.mark(`PV grew; claim: ${await claimSeen(c, "claim")}`);
      await c.createPod(podWithClaim("reader", "claim"));
      await podReady(c, "reader");
      await waitFsGrown(c, "reader", before, size);
      await waitClaimGrown(c, "claim", size.to);
      expect((await c.kube.execInPod(c.ns, "reader", readChecksumScript("/data/pattern"))).trim()).toBe(sum);
    },
  },
  {
    meta: {
      id: "EX-03",
      area,
      title: "online expansion: a claim grown while a pod uses it grows in the pod without a restart, data intact",
      requires: { dynamic: true, capabilities: [...expands, "onlineExpansion" as const] },
      asserts:
        "the request of a claim a running pod uses is doubled; the same pod (no restart) sees the filesystem grown by at least 90 % of the volume's growth and can fill it past the old size, the claim's capacity is the new size with no resize condition left, and the data written before reads back",
    },
    body: async (c) => {
      await caseStorageClass(c, { allowVolumeExpansion: true });
      const { pv, sum } = await claimWithData(c, "app");
      const uid = (await c.kube.read("Pod", "app", c.ns)).metadata?.uid;
      const before = await podFsBytes(c, "app");
      const size = grownSize(c);
      await recordParameter("sizes", `${size.from / MiB} MiB → ${size.quantity}; filesystem before ${before} bytes`);
      await resize(c, "claim", size.quantity);
      await waitPvGrown(c, pv, "claim", size.to);
      await waitFsGrown(c, "app", before, size);
      await waitClaimGrown(c, "claim", size.to);
      // The new space is usable: write past what the old filesystem could hold.
      const fill = Math.ceil((before * 1.05) / MiB);
      await c.kube.execInPod(c.ns, "app", [
        "sh",
        "-ec",
        `dd if=/dev/zero of=/data/fill bs=1M count=${fill} conv=fsync status=none && rm /data/fill`,
      ]);
      const pod = await c.kube.read("Pod", "app", c.ns);
      expect(pod.metadata?.uid, "the same pod").toBe(uid);
      expect(pod.status?.containerStatuses?.[0]?.restartCount ?? 0, "container restarts").toBe(0);
      expect((await c.kube.execInPod(c.ns, "app", readChecksumScript("/data/pattern"))).trim()).toBe(sum);
    },
  },
  {
    meta: {
      id: "EX-04",
      area,
      title: "a Block volume grows: the device a pod sees has the new size, data intact",
      requires: { dynamic: true, capabilities: [...expands, "block" as const, "onlineExpansion" as const] },
      asserts:
        "a Block claim a running pod uses is doubled; the device in the pod reaches the new size without a restart and the seeded data at its start reads back",
    },
    body: async (c) => {
      await caseStorageClass(c, { allowVolumeExpansion: true });
      const { pv, sum } = await claimWithData(c, "app", { block: true });
      const before = await deviceBytes(c, "app");
      const size = grownSize(c);
      await recordParameter("sizes", `${size.from / MiB} MiB → ${size.quantity}; device before ${before} bytes`);
      await resize(c, "claim", size.quantity);
      await waitPvGrown(c, pv, "claim", size.to);
      const after = await waitFor(
        `device /dev/xvda in pod app at least ${size.to / MiB} MiB`,
        async () => {
          const n = await deviceBytes(c, "app");
          return { done: n >= size.to, seen: `${(n / MiB).toFixed(1)} MiB`, value: n };
        },
        { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 2000, blame: "driver" },
      );
      expect(after).toBeGreaterThan(before);
      await waitClaimGrown(c, "claim", size.to);
      expect(
        (await c.kube.execInPod(c.ns, "app", blockReadChecksumScript("/dev/xvda"))).trim(),
        "the data at the device's start",
      ).toBe(sum);
    },
  },
  {
    meta: {
      id: "EX-05",
      area,
      title: "shrinking is refused, and a request above the driver's maximum fails clearly without changing the volume",
      requires: { dynamic: true, capabilities: expands },
      asserts:
        "lowering a bound claim's request is refused by the API server; raising it above the driver's declared sizeRange.max leaves the PV at its size and the claim reports the failure (a resize condition or a VolumeResizeFailed event); a pod still reads the data",
    },
    body: async (c) => {
      await caseStorageClass(c, { allowVolumeExpansion: true });
      const { pv, sum } = await claimWithData(c, "app");
      const shrink = await resize(c, "claim", `${Math.floor(grownSize(c).from / MiB / 2)}Mi`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(shrink), "the API server's answer to shrinking").toMatch(/less than|Forbidden|forbidden/);
      const max = c.driver.spec.sizeRange.max;
      if (!max) {
        await c.notApplicable("a request above the maximum fails clearly", "the driver declares no sizeRange.max");
        return;
      }
      const over = `${Math.floor((quantityToBytes(max) ?? 0) / MiB) * 2}Mi`;
      const pvSize = (await c.kube.read("PersistentVolume", pv)).spec?.capacity?.["storage"];
      await resize(c, "claim", over);
      await waitFor(
        `claim reports that growing to ${over} failed`,
        async () => {
          const pvc = await c.kube.read("PersistentVolumeClaim", "claim", c.ns);
          const failed =
            Object.values(pvc.status?.allocatedResourceStatuses ?? {}).some((s) => /Infeasible|Failed/.test(s)) ||
            /VolumeResizeFailed|ExternalExpanding.*fail/i.test(
              await latestEvent(c.kube, c.ns, "PersistentVolumeClaim", "claim"),
            );
          return { done: failed, seen: await claimSeen(c, "claim") };
        },
        { timeoutMs: driverTimeout(c.driver, "claimProvision"), intervalMs: 2000, blame: "driver" },
      );
      c.timeline.mark(`resize to ${over} failed: ${await claimSeen(c, "claim")}`);
      expect((await c.kube.read("PersistentVolume", pv)).spec?.capacity?.["storage"], "PV capacity").toBe(pvSize);
      expect((await c.kube.execInPod(c.ns, "app", readChecksumScript("/data/pattern"))).trim()).toBe(sum);
    },
  },
];
