/**
 * AM-12: isolation, the counterpart of sharing. Two claims of one driver are two volumes: a pod
 * sees only its own claim's data, on one node or on two, and deleting one claim's volume leaves
 * the others' data intact (a driver that maps two volumes onto one backing store fails both).
 */
import { expect } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import { readClaim } from "../../harness/k8s/claims.ts";
import { deletePodAndWait } from "../../harness/k8s/pods.ts";
import type { Case, CaseContext } from "../../harness/case/runtime.ts";
import { caseClaim, deleteCaseClaim, startPodOn } from "../../harness/case/claim.ts";
import { driverTimeout } from "../../harness/drivers/timeouts.ts";

interface Use {
  claim: string;
  node: string;
  pv: string;
  pattern: ReturnType<typeof newPattern>;
}

const dataFile = (claim: string) => `/data/isolation-${claim}`;
const describeUse = (u: Use) => `${u.claim} (PV ${u.pv}, on ${u.node})`;

/** What pod `pod` (using u's claim) shows that it should not: other claims' files, another owner, changed data. */
async function leaks(c: CaseContext, pod: string, u: Use, all: readonly Use[]): Promise<string[]> {
  const problems: string[] = [];
  const files = (await c.kube.execInPod(c.ns, pod, ["ls", "-A", "/data"])).split("\n").filter(Boolean);
  for (const other of all.filter((o) => o !== u && files.includes(dataFile(o.claim).slice("/data/".length))))
    problems.push(`pod ${pod} on ${describeUse(u)} sees ${dataFile(other.claim)}, written to ${describeUse(other)}`);
  const owner = (await c.kube.runInPod(c.ns, pod, ["cat", "/data/owner"])).stdout.trim();
  if (owner !== u.claim)
    problems.push(`pod ${pod} on ${describeUse(u)} reads /data/owner "${owner}" (another claim's pod wrote it last)`);
  const sum = (await c.kube.runInPod(c.ns, pod, readChecksumScript(dataFile(u.claim)))).stdout.trim();
  if (sum !== (await expectedChecksum(u.pattern)))
    problems.push(
      `pod ${pod} on ${describeUse(u)}: ${dataFile(u.claim)} does not read back as written (sha256 ${sum || "none"})`,
    );
  return problems;
}

export const ISOLATION_CASE: Case = {
  meta: {
    id: "AM-12",
    area: "access modes",
    title: "isolation: two claims never share storage, on one node or two; deleting one leaves the others intact",
    requires: { capabilities: ["persistence" as const] },
    asserts:
      "claims 1 and 2 are used by pods on the first worker and claim 3 by a pod on the second (static PVs for in-tree and FlexVolume drivers, the driver's class for CSI); each pod writes a seeded file named after its claim and its claim's name to /data/owner: every pod reads back its own file and owner and sees no file of another claim; then claim 2's pod, claim and volume are deleted, and new pods on claims 1 and 3 read their data back intact",
  },
  body: async (c) => {
    const [first, second = first] = c.workers as [string, string?];
    const plan = [
      { claim: "claim-1", node: first },
      { claim: "claim-2", node: first },
      { claim: "claim-3", node: second },
    ];
    // One claim at a time: a static claim binds the PV just made for it, the only one available.
    for (const p of plan) await caseClaim(c, p.node, { name: p.claim });
    await Promise.all(plan.map((p) => startPodOn(c, `pod-${p.claim}`, p.claim, p.node)));
    const uses: Use[] = [];
    for (const p of plan)
      uses.push({ ...p, pv: (await readClaim(c.kube, c.ns, p.claim)).volumeName, pattern: newPattern(256 * 1024) });
    await recordParameter("volumes", uses.map(describeUse).join("; "));
    await recordParameter("pattern seeds", uses.map((u) => `${u.claim} ${u.pattern.seed}`).join(", "));
    // Every pod writes before any reads: a shared store shows the other claims' writes.
    await Promise.all(
      uses.map(async (u) => {
        await c.kube.execInPod(c.ns, `pod-${u.claim}`, writeScript(u.pattern, dataFile(u.claim)));
        await c.kube.execInPod(c.ns, `pod-${u.claim}`, ["sh", "-ec", `echo ${u.claim} > /data/owner && sync`]);
      }),
    );
    const seen = (await Promise.all(uses.map((u) => leaks(c, `pod-${u.claim}`, u, uses)))).flat();
    // The problems go in the message itself: it is the evidence the report and the self-tests read.
    expect(seen.length, `claims whose pods see more than their own data: ${seen.join(" | ")}`).toBe(0);

    const [one, two, three] = uses as [Use, Use, Use];
    await deletePodAndWait(c.kube, c.ns, `pod-${two.claim}`, driverTimeout(c.driver, "podDelete"));
    await deleteCaseClaim(c, two.claim);
    await recordParameter("deleted", `${describeUse(two)}: its pod, claim and volume`);
    // Fresh pods mount the survivors again, so the data comes from the volumes, not a page cache.
    for (const u of [one, three])
      await deletePodAndWait(c.kube, c.ns, `pod-${u.claim}`, driverTimeout(c.driver, "podDelete"));
    await Promise.all([one, three].map((u) => startPodOn(c, `again-${u.claim}`, u.claim, u.node)));
    const after = (await Promise.all([one, three].map((u) => leaks(c, `again-${u.claim}`, u, uses)))).flat();
    expect(after.length, `the other claims' data after ${describeUse(two)} was deleted: ${after.join(" | ")}`).toBe(0);
  },
};
