/**
 * AM: access modes, for static and dynamic drivers alike (harness/case/claim.ts). Every data check
 * is seeded; every "refuses" is checked by the exact error the kernel or the scheduler gives.
 */
import { expect } from "vitest";
import {
  EXEC_PROBE,
  expectedChecksum,
  newPattern,
  readChecksumScript,
  writeScript,
} from "../../harness/data/pattern.ts";
import { logStep, recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim, readClaim } from "../../harness/k8s/claims.ts";
import { latestEvent } from "../../harness/k8s/events.ts";
import { deletePodAndWait, waitForPodReady } from "../../harness/k8s/pods.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { podWithClaim, staticVolume } from "../../harness/case/volumes.ts";
import { caseClaim, onNode, startPodOn } from "../../harness/case/claim.ts";
import { driverTimeout, holdWindow } from "../../harness/drivers/timeouts.ts";
import { holdsFor, waitFor } from "../../harness/core/wait.ts";
import { CLUSTER_LIMITS, HOLD } from "../../harness/case/limits.ts";
import { HarnessBug } from "../../harness/core/errors.ts";
import { podMountsOnNode, readMounts, type Mount } from "../../harness/nodes/mountinfo.ts";
import type { V1Pod } from "../../harness/k8s/kube.ts";
import { ISOLATION_CASE } from "./isolation.ts";
import { claimSize } from "../../harness/case/sizes.ts";

const area = "access modes";
const requires = { capabilities: ["persistence" as const] };
const staticOnly = { types: ["in-tree" as const, "flexvolume" as const], capabilities: ["persistence" as const] };

const boundClaim = (c: CaseContext, node: string, accessModes = ["ReadWriteOnce"]) =>
  caseClaim(c, node, { accessModes });
const startPod = (c: CaseContext, name: string, node: string, readOnly = false) =>
  startPodOn(c, name, "claim", node, readOnly);

async function deletePod(c: CaseContext, name: string): Promise<void> {
  await deletePodAndWait(c.kube, c.ns, name, driverTimeout(c.driver, "podDelete"));
}

/** The mount flags of /data as the pod sees them (its /proc/mounts). */
const podMountFlags = async (c: CaseContext, pod: string) =>
  (await c.kube.execInPod(c.ns, pod, ["sh", "-c", "awk '$2 == \"/data\" { print $4 }' /proc/mounts"])).trim();

/** The node's mounts of the claim's volume in the kubelet's directory of the pod (named after the PV). */
async function nodeSideMounts(c: CaseContext, pod: V1Pod, claim: string): Promise<{ pv: string; mounts: Mount[] }> {
  const pv = (await readClaim(c.kube, c.ns, claim)).volumeName;
  // .../pods/<uid>/volumes/<plugin>/<pv>[/mount] (block volumes are not mounted there).
  const all = await podMountsOnNode(c.nodes, pod.spec?.nodeName as string, pod.metadata?.uid as string);
  return { pv, mounts: all.filter((m) => m.mountPoint.includes("/volumes/") && m.mountPoint.split("/").includes(pv)) };
}

const describeMounts = (mounts: readonly Mount[]) =>
  mounts.map((m) => `${m.mountPoint} (${m.fsType}, ${m.options.join(",")})`).join("; ") || "none";

const checksum = async (c: CaseContext, pod: string, file: string) =>
  (await c.kube.execInPod(c.ns, pod, readChecksumScript(file))).trim();

export const ACCESS_MODE_CASES: Case[] = [
  {
    meta: {
      id: "AM-01",
      area,
      title: "RWO: a second pod on the same node reads what the first wrote; the mount is rw",
      requires,
      asserts:
        "seeded data written by pod 1 is read identically by pod 2 on the same node; /data is mounted read-write",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const p = newPattern();
      await recordParameter("seed", p.seed);
      await startPod(c, "first", node);
      expect((await podMountFlags(c, "first")).split(",")).toContain("rw");
      expect((await c.kube.execInPod(c.ns, "first", writeScript(p, "/data/pattern"))).trim()).toBe(
        await expectedChecksum(p),
      );
      await startPod(c, "second", node);
      expect(await checksum(c, "second", "/data/pattern")).toBe(await expectedChecksum(p));
    },
  },
  {
    meta: {
      id: "AM-02",
      area,
      title: "data survives pod re-creation (same node; other node unless singleNodeVolume)",
      requires,
      asserts:
        "after the writer pod is deleted, a new pod on the same node reads the same bytes; for multi-node drivers, a pod on another node does too",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const p = newPattern();
      await recordParameter("seed", p.seed);
      await startPod(c, "writer", node);
      await c.kube.execInPod(c.ns, "writer", writeScript(p, "/data/pattern"));
      await deletePod(c, "writer");
      await startPod(c, "same-node", node);
      expect(await checksum(c, "same-node", "/data/pattern")).toBe(await expectedChecksum(p));
      if (c.driver.spec.capabilities.singleNodeVolume) {
        await logStep(
          "other-node part: not applicable, the driver declares singleNodeVolume (data cannot follow a pod to another node)",
        );
        return;
      }
      await deletePod(c, "same-node");
      await startPod(c, "other-node", c.workers[1] as string);
      expect(await checksum(c, "other-node", "/data/pattern")).toBe(await expectedChecksum(p));
    },
  },
  {
    meta: {
      id: "AM-03",
      area,
      title: "several pods on one node share a volume",
      requires: { ...requires, capabilities: ["persistence" as const, "multipods" as const] },
      asserts:
        "three pods on one node each read the previous pod's data; deleting one leaves the others reading and writing",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const names = ["pod-a", "pod-b", "pod-c"];
      for (const n of names) await startPod(c, n, node);
      let previous: { file: string; sum: string } | null = null;
      for (const n of names) {
        if (previous)
          expect(await checksum(c, n, previous.file), `${n} reads the previous pod's data`).toBe(previous.sum);
        const p = newPattern(64 * 1024);
        await recordParameter(`seed ${n}`, p.seed);
        previous = { file: `/data/${n}`, sum: (await c.kube.execInPod(c.ns, n, writeScript(p, `/data/${n}`))).trim() };
        expect(previous.sum).toBe(await expectedChecksum(p));
      }
      await deletePod(c, "pod-b");
      expect(await checksum(c, "pod-a", "/data/pod-c")).toBe(previous?.sum);
      await c.kube.execInPod(c.ns, "pod-c", [
        "sh",
        "-c",
        "echo still-writable > /data/after-delete && cat /data/after-delete",
      ]);
    },
  },
  {
    meta: {
      id: "AM-04",
      area,
      title: "RWX: pods on two nodes share one volume and see each other's writes",
      requires: {
        capabilities: ["persistence" as const, "RWX" as const],
        accessModes: ["ReadWriteMany" as const],
        workers: 2,
      },
      asserts:
        "one ReadWriteMany claim is mounted by a pod on each of two workers; each reads, byte for byte, the seeded file the other wrote",
    },
    body: async (c) => {
      const [a, b] = c.workers as [string, string];
      await boundClaim(c, a, ["ReadWriteMany"]);
      await startPod(c, "pod-a", a);
      await startPod(c, "pod-b", b);
      for (const [writer, reader] of [
        ["pod-a", "pod-b"],
        ["pod-b", "pod-a"],
      ] as const) {
        const p = newPattern(128 * 1024);
        await recordParameter(`seed ${writer}`, p.seed);
        expect((await c.kube.execInPod(c.ns, writer, writeScript(p, `/data/${writer}`))).trim()).toBe(
          await expectedChecksum(p),
        );
        expect(
          await checksum(c, reader, `/data/${writer}`),
          `${reader} on another node reads what ${writer} wrote`,
        ).toBe(await expectedChecksum(p));
      }
    },
  },
  {
    meta: {
      id: "AM-06",
      area,
      title: "ROX: a ReadOnlyMany claim binds and serves reads on two nodes",
      requires: {
        capabilities: ["persistence" as const, "capReadOnlyMany" as const],
        accessModes: ["ReadOnlyMany" as const],
        workers: 2,
      },
      asserts:
        "a ReadOnlyMany claim binds; read-only pods on two workers both mount it, see the same listing, and get 'Read-only file system' on writes",
    },
    body: async (c) => {
      const [a, b] = c.workers as [string, string];
      await boundClaim(c, a, ["ReadOnlyMany"]);
      await startPod(c, "reader-a", a, true);
      await startPod(c, "reader-b", b, true);
      const listing = (pod: string) =>
        c.kube.execInPod(c.ns, pod, ["sh", "-c", "cd /data && ls -la --time-style=+ . | sort"]);
      expect(await listing("reader-b"), "both nodes see the same volume").toBe(await listing("reader-a"));
      for (const pod of ["reader-a", "reader-b"]) {
        const write = await c.kube.runInPod(c.ns, pod, ["sh", "-c", "echo x > /data/new"]);
        expect(write.exitCode, `write from ${pod}`).not.toBe(0);
        expect(write.stderr).toMatch(/Read-only file system/);
      }
    },
  },
  {
    meta: {
      id: "AM-05",
      area,
      title: "a read-only mount refuses writes (EROFS) and serves reads",
      requires,
      asserts:
        "with readOnly on the volumeMount and on the claim source, writes fail with 'Read-only file system' and the data written earlier reads back intact",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const p = newPattern();
      await recordParameter("seed", p.seed);
      await startPod(c, "writer", node);
      await c.kube.execInPod(c.ns, "writer", writeScript(p, "/data/pattern"));
      await deletePod(c, "writer");
      await startPod(c, "reader", node, true);
      expect(await checksum(c, "reader", "/data/pattern")).toBe(await expectedChecksum(p));
      const write = await c.kube.runInPod(c.ns, "reader", ["sh", "-c", "echo x > /data/new"]);
      expect(write.exitCode, "write through a readOnly mount").not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
    },
  },
  {
    meta: {
      id: "AM-08",
      area,
      title: "a claim for an access mode no volume offers stays Pending",
      requires: staticOnly,
      asserts:
        "a ReadWriteMany claim never binds to a ReadWriteOnce-only volume; it stays Pending with an event saying why",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await staticVolume(c, "pv", { node, accessModes: ["ReadWriteOnce"] });
      await createClaim(c.kube, c.ns, {
        name: "rwx",
        storageClassName: c.ns,
        size: claimSize(c.driver),
        accessModes: ["ReadWriteMany"],
      });
      await holdsFor(
        "claim rwx (no volume offers ReadWriteMany) stays unbound",
        async () => {
          const s = await readClaim(c.kube, c.ns, "rwx");
          return {
            holds: s.phase !== "Bound",
            seen: `phase ${s.phase}${s.volumeName ? ` (volume ${s.volumeName})` : ""}`,
          };
        },
        { durationMs: holdWindow(c.driver, HOLD.unboundClaim), blame: "driver" },
      );
      const state = await readClaim(c.kube, c.ns, "rwx");
      expect(state.phase).toBe("Pending");
      expect(state.volumeName).toBe("");
      // With no StorageClass object of that name the controller reports why it cannot provision either.
      expect(await latestEvent(c.kube, c.ns, "PersistentVolumeClaim", "rwx")).toMatch(
        /FailedBinding|no persistent volumes available|ProvisioningFailed/,
      );
    },
  },
  {
    meta: {
      id: "AM-07",
      area,
      title: "ReadWriteOncePod: a second pod cannot use an in-use claim until the first is gone",
      requires: {
        ...requires,
        capabilities: ["persistence" as const, "readWriteOncePod" as const],
        accessModes: ["ReadWriteOncePod" as const],
      },
      asserts:
        "with a ReadWriteOncePod claim in use, a second pod on the same node stays Pending (Unschedulable, the scheduler names ReadWriteOncePod); once the first pod is deleted the second starts and reads the first pod's data",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node, ["ReadWriteOncePod"]);
      const p = newPattern(64 * 1024);
      await recordParameter("seed", p.seed);
      await startPod(c, "first", node);
      await c.kube.execInPod(c.ns, "first", writeScript(p, "/data/pattern"));
      await c.createPod(podWithClaim("second", "claim", onNode(node)));
      const blocked = await waitFor(
        "second pod reported Unschedulable because of ReadWriteOncePod",
        async () => {
          const pod = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "second" });
          const cond = pod.status?.conditions?.find((x) => x.type === "PodScheduled");
          return {
            done: pod.status?.phase === "Running" || cond?.reason === "Unschedulable",
            value: { phase: pod.status?.phase, message: cond?.message ?? "" },
            seen: `phase ${pod.status?.phase}; PodScheduled ${cond?.reason ?? "?"}: ${cond?.message ?? ""}`,
          };
        },
        { timeoutMs: CLUSTER_LIMITS.schedulerDecision, intervalMs: 1000, blame: "driver" },
      );
      expect(blocked.phase, "the second pod must not run while the first uses the RWOP claim").toBe("Pending");
      expect(blocked.message).toMatch(/ReadWriteOncePod/);
      await deletePod(c, "first");
      await waitForPodReady(c.kube, c.ns, "second", driverTimeout(c.driver, "podStart"));
      expect(await checksum(c, "second", "/data/pattern")).toBe(await expectedChecksum(p));
    },
  },
  {
    meta: {
      id: "AM-09",
      area,
      title: "read-only from the node's side: the volume's mount in the kubelet's pod directory is read-only",
      requires,
      asserts:
        "for a pod using the claim readOnly (volumeMount and claim source), every mount of the volume under the kubelet's directory of that pod on the node has the ro flag (checked in the node's mount table, not only in the container, whose own read-only bind hides a driver that publishes read-write); the flags are recorded; an in-tree hostPath volume has no mount of its own there (not applicable) and the pod's write still fails",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const pod = await startPod(c, "reader", node, true);
      const { pv, mounts } = await nodeSideMounts(c, pod, "claim");
      await recordParameter(`mounts of ${pv} in pod reader's directory on ${node}`, describeMounts(mounts));
      const hostPath = c.driver.spec.type === "in-tree" && c.driver.spec.inTree?.plugin === "hostPath";
      if (hostPath) {
        expect(mounts, "an in-tree hostPath volume mounted in the kubelet's pod directory").toEqual([]);
        await c.notApplicable(
          "read-only mount on the node",
          "an in-tree hostPath volume has no mount of its own on the node: the container runtime binds the node's directory into the container, read-only there",
        );
      } else {
        expect(
          mounts.length,
          `mounts of volume ${pv} under the kubelet's directory of pod reader (${pod.metadata?.uid}) on ${node}`,
        ).toBeGreaterThan(0);
        for (const m of mounts)
          expect(
            m.options,
            `on ${node}, ${m.mountPoint} is mounted ${m.options.join(",")}: read-write although the kubelet asked for read-only`,
          ).toContain("ro");
      }
      const write = await c.kube.runInPod(c.ns, "reader", ["sh", "-c", "echo x > /data/new"]);
      expect(write.exitCode, "write through the readOnly mount in the pod").not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
    },
  },
  {
    meta: {
      id: "AM-10",
      area,
      title: "a program written to the volume runs (exec), static and dynamic volumes alike; mount flags recorded",
      requires: { capabilities: ["persistence" as const, "exec" as const] },
      asserts:
        "on the volume volcert gets from the driver (a static PV for in-tree and FlexVolume drivers, the driver's class for CSI), the pod's mount has no noexec and a shell script written to it and made executable runs and prints its marker; the flags the pod sees and the node-side mount's flags are recorded",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const pod = await startPod(c, "app", node);
      const flags = await podMountFlags(c, "app");
      await recordParameter("mount flags of /data in the pod", flags);
      const { pv, mounts } = await nodeSideMounts(c, pod, "claim");
      await recordParameter(`mounts of ${pv} in pod app's directory on ${node}`, describeMounts(mounts));
      expect(flags.split(","), `/data in pod app is mounted ${flags} although the driver declares exec`).not.toContain(
        "noexec",
      );
      await c.kube.execInPod(c.ns, "app", [...EXEC_PROBE.write]);
      const run = await c.kube.runInPod(c.ns, "app", [EXEC_PROBE.path]);
      expect(`${run.stdout.trim()}${run.stderr.trim()}`, `${EXEC_PROBE.path} on a volume mounted ${flags}`).toBe(
        EXEC_PROBE.marker,
      );
    },
  },
  {
    meta: {
      id: "AM-11",
      area,
      title: "sharing under churn: pods come and go on one node, every pair alive sees the other's writes",
      requires: { ...requires, capabilities: ["persistence" as const, "multipods" as const] },
      asserts:
        "pods A and B share a volume on one node; A is deleted and C started, then B is deleted and D started: after each step the two pods alive see each other's writes, the node holds one instance of the volume (every node-side mount of it on one device), and once the last pod is gone no mount of the volume is left on the node",
    },
    body: async (c) => {
      const node = c.workers[0] as string;
      await boundClaim(c, node);
      const pods = new Map<string, V1Pod>();
      const start = async (n: string) => pods.set(n, await startPod(c, n, node));
      const stop = async (n: string) => {
        await deletePod(c, n);
        pods.delete(n);
      };
      const hostPath = c.driver.spec.type === "in-tree" && c.driver.spec.inTree?.plugin === "hostPath";
      let round = 0;
      const pairSees = async (a: string, b: string) => {
        round++;
        for (const [from, to] of [
          [a, b],
          [b, a],
        ] as const) {
          const file = `/data/churn-${round}-${from}`;
          const token = `${from}-${round}-${Date.now()}`;
          await c.kube.execInPod(c.ns, from, ["sh", "-ec", `echo ${token} > ${file} && sync`]);
          const seen = (await c.kube.runInPod(c.ns, to, ["cat", file])).stdout.trim();
          expect(seen, `pod ${to} reads what pod ${from} (alive with it on ${node}) wrote to ${file}`).toBe(token);
        }
        if (hostPath) return;
        const mounts = (await Promise.all([...pods.values()].map((p) => nodeSideMounts(c, p, "claim")))).flatMap(
          (m) => m.mounts,
        );
        const devices = [...new Set(mounts.map((m) => m.device))];
        await recordParameter(`node-side mounts with ${a} and ${b}`, describeMounts(mounts));
        expect(
          devices,
          `devices behind the mounts of ${pv} for pods ${a} and ${b} on ${node} (two devices: two instances of one volume)`,
        ).toHaveLength(1);
      };
      await start("pod-a");
      await start("pod-b");
      // Read once bound: a WaitForFirstConsumer claim has no volume before its first pod.
      const pv = (await readClaim(c.kube, c.ns, "claim")).volumeName;
      if (!pv) throw new HarnessBug("claim has no volume although its pods run");
      await pairSees("pod-a", "pod-b");
      await stop("pod-a");
      await start("pod-c");
      await pairSees("pod-b", "pod-c");
      await stop("pod-b");
      await start("pod-d");
      await pairSees("pod-c", "pod-d");
      await stop("pod-c");
      await stop("pod-d");
      if (hostPath) {
        await c.notApplicable(
          "one instance on the node",
          "an in-tree hostPath volume has no mount of its own on the node (the runtime binds the directory)",
        );
        return;
      }
      // Nothing of the volume left on the node: no mount whose path names the PV (the kubelet's and the driver's own).
      await waitFor(
        `no mount of ${pv} left on ${node} after the last pod`,
        async () => {
          const left = (await readMounts(c.nodes, node)).filter((m) => m.mountPoint.split("/").includes(pv));
          return { done: left.length === 0, seen: describeMounts(left) };
        },
        { timeoutMs: driverTimeout(c.driver, "podDelete"), intervalMs: 2000, blame: "driver" },
      );
    },
  },
  ISOLATION_CASE,
];
