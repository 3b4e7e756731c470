/**
 * CA: storage capacity. CA-01, capacity tracking: a driver that declares `capacity` has its
 * external-provisioner publish CSIStorageCapacity objects (from GetCapacity) for its
 * WaitForFirstConsumer classes, and the scheduler uses them: a claim no segment has room for is not
 * placed anywhere. CA-02, capacity honesty (./honesty.ts): a pod can store what the PV promises.
 */
import { expect } from "vitest";
import { waitFor } from "../../harness/core/wait.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { attachText, recordParameter } from "../../harness/evidence/allure.ts";
import { createClaim, readClaim } from "../../harness/k8s/claims.ts";
import { describePod, type V1CSIStorageCapacity } from "../../harness/k8s/kube.ts";
import { caseStorageClass, quantityBytes } from "../../harness/case/dynamic.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { podWithClaim } from "../../harness/case/volumes.ts";
import { HONESTY_CASE } from "./honesty.ts";

const area = "storage capacity";

/** The scheduler's VolumeBinding filter message for a node without room (ErrReasonNotEnoughSpace). */
const NOT_ENOUGH_SPACE = /did not have enough free storage/;

const GI = 1024 ** 3;

const describeCapacity = (o: V1CSIStorageCapacity) =>
  `${o.metadata?.namespace}/${o.metadata?.name}: capacity ${o.capacity ?? "unset"}, maximumVolumeSize ${o.maximumVolumeSize ?? "unset"}, nodeTopology ${JSON.stringify(o.nodeTopology ?? {})}`;

async function capacitiesOf(c: CaseContext, storageClass: string): Promise<V1CSIStorageCapacity[]> {
  return (await c.kube.list("CSIStorageCapacity")).filter((o) => o.storageClassName === storageClass);
}

export const CAPACITY_CASES: Case[] = [
  {
    meta: {
      id: "CA-01",
      area,
      title:
        "CSIStorageCapacity objects appear for the driver's class and go with it; a claim no segment has room for is not scheduled",
      requires: { types: ["csi" as const], dynamic: true, capabilities: ["capacity" as const] },
      asserts:
        "for a WaitForFirstConsumer copy of the driver's class, CSIStorageCapacity objects with a capacity appear; a pod whose claim is larger than every object's maximumVolumeSize (or capacity) stays unscheduled with the scheduler's not-enough-storage reason and its claim is never provisioned; once the class is deleted its objects are gone",
    },
    body: async (c) => {
      const sc = await caseStorageClass(c, { volumeBindingMode: "WaitForFirstConsumer" });
      const published = await waitFor(
        `CSIStorageCapacity objects with a capacity for class ${sc.name}`,
        async () => {
          const caps = await capacitiesOf(c, sc.name);
          return {
            done: caps.length > 0 && caps.every((o) => o.capacity !== undefined),
            seen: caps.map(describeCapacity).join("; ") || "none",
            value: caps,
          };
        },
        { timeoutMs: driverTimeout(c.driver, "claimProvision"), intervalMs: 2000, blame: "driver" },
      );
      await attachText("CSIStorageCapacity objects", published.map(describeCapacity).join("\n"));
      // Larger than what any segment can take: the scheduler must find no node for it.
      const room = Math.max(...published.map((o) => quantityBytes(o.maximumVolumeSize ?? o.capacity ?? "0")));
      const tooBig = `${Math.ceil(room / GI) + 1}Gi`;
      await recordParameter("largest room published", `${(room / GI).toFixed(1)} GiB; claim asks ${tooBig}`);
      await createClaim(c.kube, c.ns, { name: "too-big", storageClassName: sc.name, size: tooBig });
      await c.createPod(podWithClaim("too-big", "too-big"));
      const reason = await waitFor(
        "pod too-big unschedulable for want of storage",
        async () => {
          const pod = await c.kube.read("Pod", "too-big", c.ns);
          const cond = pod.status?.conditions?.find((x) => x.type === "PodScheduled");
          const msg = cond?.status === "False" ? (cond.message ?? "") : "";
          if (pod.spec?.nodeName)
            return { done: false, seen: `scheduled onto ${pod.spec.nodeName}: ${describePod(pod)}` };
          return { done: NOT_ENOUGH_SPACE.test(msg), seen: msg || describePod(pod), value: msg };
        },
        { timeoutMs: driverTimeout(c.driver, "podStart"), intervalMs: 2000, blame: "driver" },
      );
      c.timeline.mark(`too-big not scheduled: ${reason}`);
      const pod = await c.kube.read("Pod", "too-big", c.ns);
      expect(pod.spec?.nodeName, "the pod whose claim fits nowhere is on no node").toBeUndefined();
      expect((await readClaim(c.kube, c.ns, "too-big")).phase, "the too-big claim is not provisioned").toBe("Pending");
      await c.kube.delete("StorageClass", sc.name);
      await waitFor(
        `CSIStorageCapacity objects of class ${sc.name} gone with it`,
        async () => {
          const left = await capacitiesOf(c, sc.name);
          return { done: left.length === 0, seen: left.map(describeCapacity).join("; ") || "none" };
        },
        { timeoutMs: driverTimeout(c.driver, "claimProvision"), intervalMs: 2000, blame: "driver" },
      );
    },
  },
  HONESTY_CASE,
];
