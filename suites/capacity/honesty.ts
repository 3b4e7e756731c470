/**
 * CA-02: capacity honesty. What a pod can store is compared with what the claim and the PV promise
 * (statfs of the mount, or the size of a raw device); for drivers whose volumes have a size of
 * their own (sizeEnforced), filling one ends in ENOSPC at its capacity and leaves a neighbour alone.
 */
import { expect } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { caseClaim, onNode, startPodOn } from "../../harness/case/claim.ts";
import { blockClaim, podReady, quantityBytes, readPv, waitForProvisioned } from "../../harness/case/dynamic.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { blockPodWithClaim } from "../../harness/case/volumes.ts";

/**
 * How much smaller than the PV's capacity the filesystem may be: its metadata and journal. Measured
 * with this machine's mkfs (Debian 12) on an empty image: ext4 of 64Mi 14.5 % (4 MiB journal, inode
 * tables), xfs of 300Mi 21.3 % (its internal log). A quarter covers both; an overstated PV (1Gi for
 * a 64Mi filesystem, 94 % short) is far outside it.
 */
export const FS_OVERHEAD = 0.25;

const MI = 1024 ** 2;
/** The largest volume CA-02 fills to ENOSPC (a driver whose smallest volume is larger skips that half, saying so). */
const FILL_LIMIT = 4 * 1024 * MI;
const mib = (bytes: number) => `${(bytes / MI).toFixed(1)} MiB`;

interface PodFs {
  size: number;
  avail: number;
  type: string;
}

/** statfs of /data as the pod sees it (GNU df: total size, space available, filesystem type). */
async function podFs(c: CaseContext, pod: string): Promise<PodFs> {
  const out = await c.kube.execInPod(c.ns, pod, ["df", "-B1", "--output=size,avail,fstype", "/data"]);
  const [size, avail, type] = (out.trim().split("\n").pop() ?? "").trim().split(/\s+/);
  return { size: Number(size), avail: Number(avail), type: type ?? "?" };
}

/** The claim's request and its PV's name and capacity, in bytes. */
async function promised(c: CaseContext, claim: string): Promise<{ request: number; pv: string; capacity: number }> {
  const pvc = await c.kube.read("PersistentVolumeClaim", claim, c.ns);
  const pv = pvc.spec?.volumeName ?? "";
  const capacity = (await readPv(c, pv)).spec?.capacity?.["storage"] ?? "0";
  return {
    request: quantityBytes(pvc.spec?.resources?.requests?.["storage"] ?? "0"),
    pv,
    capacity: quantityBytes(capacity),
  };
}

/** A Block claim of the driver's class: the raw device holds at least the PV's capacity, and no more with sizeEnforced. */
async function checkBlockDevice(c: CaseContext, node: string): Promise<void> {
  await blockClaim(c, "raw");
  await c.createPod(blockPodWithClaim("raw", "raw", onNode(node)));
  await waitForProvisioned(c, "raw");
  await podReady(c, "raw");
  const p = await promised(c, "raw");
  const device = Number((await c.kube.execInPod(c.ns, "raw", ["blockdev", "--getsize64", "/dev/xvda"])).trim());
  await recordParameter(
    "block claim: request / PV capacity / device size",
    `${mib(p.request)} / ${mib(p.capacity)} / ${mib(device)}`,
  );
  expect(
    device,
    `the raw device of ${p.pv} (${mib(device)}) holds less than its PV's capacity ${mib(p.capacity)}`,
  ).toBeGreaterThanOrEqual(p.capacity);
  if (c.driver.spec.capabilities.sizeEnforced)
    expect(
      device,
      `the raw device of ${p.pv} (${mib(device)}) is larger than its PV's capacity ${mib(p.capacity)}`,
    ).toBeLessThanOrEqual(p.capacity);
}

export const HONESTY_CASE: Case = {
  meta: {
    id: "CA-02",
    area: "storage capacity",
    title:
      "capacity honesty: a pod can store what the PV promises; with sizeEnforced, not more, and a full volume ends in ENOSPC",
    requires: { capabilities: ["persistence" as const] },
    asserts: `the PV's capacity is at least the claim's request and the filesystem a pod sees at /data (statfs) is at least the PV's capacity less ${FS_OVERHEAD * 100} % filesystem overhead (a Block claim's raw device, for CSI drivers with block: at least the capacity); with sizeEnforced the filesystem is no larger than the PV's capacity and the driver's sizeRange.max, writing past the capacity fails with ENOSPC (or EDQUOT) before more than the capacity is stored (volumes up to 4 GiB), a neighbouring volume of the driver on the same node keeps its data and takes new writes (both read back by a new pod), and the full volume is usable again once the file is removed`,
  },
  body: async (c) => {
    const node = c.workers[0] as string;
    const enforced = !!c.driver.spec.capabilities.sizeEnforced;
    await caseClaim(c, node, { name: "claim" });
    await startPodOn(c, "app", "claim", node);
    const p = await promised(c, "claim");
    const fs = await podFs(c, "app");
    await recordParameter("claim request / PV capacity", `${mib(p.request)} / ${mib(p.capacity)} (PV ${p.pv})`);
    await recordParameter(
      "filesystem in the pod (statfs of /data)",
      `${fs.type}, size ${mib(fs.size)}, available ${mib(fs.avail)}`,
    );
    expect(
      p.capacity,
      `PV ${p.pv}'s capacity ${mib(p.capacity)} is below the claim's request ${mib(p.request)}`,
    ).toBeGreaterThanOrEqual(p.request);
    expect(
      fs.size,
      `PV ${p.pv} promises ${mib(p.capacity)} but the ${fs.type} filesystem a pod sees at /data is ${mib(fs.size)} (allowance for filesystem overhead: ${FS_OVERHEAD * 100} %, at least ${mib(p.capacity * (1 - FS_OVERHEAD))})${c.driver.spec.type === "csi" ? "" : "; a static PV: volcert gives it the size the case's claims ask for, the driver file's volumes must hold that"}`,
    ).toBeGreaterThanOrEqual(p.capacity * (1 - FS_OVERHEAD));
    if (c.driver.spec.type === "csi" && c.driver.spec.capabilities.block) await checkBlockDevice(c, node);
    if (!enforced) {
      await c.notApplicable(
        "no more than the PV's capacity, ENOSPC when full",
        "the driver does not declare sizeEnforced: its volumes share the node's filesystem",
      );
      return;
    }
    expect(
      fs.size,
      `the filesystem of PV ${p.pv} (${mib(fs.size)}) is larger than its capacity ${mib(p.capacity)}`,
    ).toBeLessThanOrEqual(p.capacity);
    const max = c.driver.spec.sizeRange.max;
    if (max)
      expect(
        fs.size,
        `the filesystem of PV ${p.pv} is larger than the driver's sizeRange.max ${max}`,
      ).toBeLessThanOrEqual(quantityBytes(max));

    if (p.capacity > FILL_LIMIT) {
      await c.notApplicable(
        "ENOSPC when full",
        `filling a volume of ${mib(p.capacity)} (the driver's smallest) takes too long; the fill runs up to ${mib(FILL_LIMIT)}`,
      );
      return;
    }

    // A neighbour on the same node with data of its own, then the first volume filled past its capacity.
    await caseClaim(c, node, { name: "neighbour" });
    await startPodOn(c, "neighbour", "neighbour", node);
    const before = newPattern(1024 * 1024);
    const after = newPattern(1024 * 1024);
    await recordParameter("neighbour's pattern seeds (before, after the fill)", `${before.seed}, ${after.seed}`);
    await c.kube.execInPod(c.ns, "neighbour", writeScript(before, "/data/before"));
    const count = Math.ceil(p.capacity / MI) + 16;
    const fill = await c.kube.runInPod(
      c.ns,
      "app",
      [
        "sh",
        "-c",
        `dd if=/dev/zero of=/data/fill bs=1M count=${count} conv=fsync 2>/tmp/dd.err; rc=$?; echo "$rc $(stat -c %s /data/fill)"; cat /tmp/dd.err`,
      ],
      // At 2 MiB/s at worst, plus a minute: a slow driver is not mistaken for an unreachable pod.
      { timeoutMs: 60_000 + (count / 2) * 1000 },
    );
    const [rc, stored] = (fill.stdout.split("\n")[0] ?? "").split(" ").map(Number) as [number, number];
    const ddError = fill.stdout.split("\n").slice(1).join(" ").trim();
    await recordParameter(
      "writing past the capacity",
      `dd of ${count} MiB: exit ${rc}, ${mib(stored)} stored; ${ddError}`,
    );
    expect(rc, `writing ${count} MiB into a volume of ${mib(p.capacity)} (PV ${p.pv}) succeeded`).not.toBe(0);
    // ENOSPC, or EDQUOT from a quota-backed driver.
    expect(ddError, "the error when the volume is full").toMatch(/No space left on device|Disk quota exceeded/);
    expect(
      stored,
      `bytes stored in PV ${p.pv} before ENOSPC, against its capacity ${mib(p.capacity)}`,
    ).toBeLessThanOrEqual(p.capacity);
    // The neighbour still takes writes, and a new pod (no page cache of the old one) reads both files.
    await c.kube.execInPod(c.ns, "neighbour", writeScript(after, "/data/after"));
    await deletePodAndWait(c.kube, c.ns, "neighbour", driverTimeout(c.driver, "podDelete"));
    await startPodOn(c, "neighbour-again", "neighbour", node);
    for (const [file, pattern] of [
      ["/data/before", before],
      ["/data/after", after],
    ] as const) {
      const sum = (await c.kube.runInPod(c.ns, "neighbour-again", readChecksumScript(file))).stdout.trim();
      expect(sum, `the neighbouring volume's ${file} on ${node}, read by a new pod after PV ${p.pv} was filled`).toBe(
        await expectedChecksum(pattern),
      );
    }
    const again = await c.kube.runInPod(c.ns, "app", [
      "sh",
      "-ec",
      "rm /data/fill && echo ok > /data/after && sync && cat /data/after",
    ]);
    expect(again.stdout.trim(), `PV ${p.pv} usable again once the file is removed (${again.stderr.trim()})`).toBe("ok");
  },
};
