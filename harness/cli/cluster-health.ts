/**
 * A kept cluster between runs: what earlier runs left open in it (the journals), healing it
 * (`volcert cluster heal`), and the check `--reuse` runs first, so suites never judge a driver on
 * a cluster a stopped run left with a node powered off or a taint in place.
 */
import type { Cluster } from "../../clusters/cluster.ts";
import { kindNodeAccess } from "../../clusters/kind/nodes.ts";
import { InfraError } from "../core/errors.ts";
import { journalRunIds, readJournal, journalFile, type JournalEntry } from "../core/journal.ts";
import { leaseAlive, readLease } from "../core/leases.ts";
import { say } from "../core/progress.ts";
import { waitForHealthyCluster } from "../faults/health.ts";
import { Kube } from "../k8s/kube.ts";
import { detachLoops, healFaults, printSettle } from "./journal-settle.ts";

export interface OpenEntry extends JournalEntry {
  /** The run that made the change is still running. */
  live: boolean;
}

/** Every open journal entry on this machine, with whether its run is alive. */
export function openEntries(): OpenEntry[] {
  return journalRunIds().flatMap((runId) => {
    const live = leaseAlive(readLease(runId));
    return readJournal(journalFile(runId)).map((e) => ({ ...e, live }));
  });
}

const undoable = (e: JournalEntry) => e.record.kind === "fault" || e.record.kind === "loop";

/** Refuses a reused cluster that a run left faulted, or that is not healthy now. */
export async function refuseUnhealthy(cluster: Cluster, kubectl: string): Promise<void> {
  const left = openEntries().filter((e) => e.cluster.name === cluster.name && undoable(e));
  if (left.length) {
    const live = left.filter((e) => e.live);
    throw new InfraError(
      `cluster ${cluster.name} has changes of ${live.length ? "a run in progress" : "a stopped run"} still in place:\n${left.map((e) => `  - ${e.what} (run ${e.runId}${e.live ? ", running" : ""})`).join("\n")}`,
      {
        fix: live.length
          ? "wait for that run to end, or use another cluster"
          : `restore it with \`volcert cluster heal ${cluster.name}\`, or delete it (\`volcert cluster down ${cluster.name}\`)`,
      },
    );
  }
  const health = await clusterHealthNow(cluster, kubectl, 60_000);
  if (health.length) {
    throw new InfraError(
      `cluster ${cluster.name} is not healthy, so it cannot judge a driver:\n  - ${health.join("\n  - ")}`,
      {
        fix: `try \`volcert cluster heal ${cluster.name}\`, or delete it (\`volcert cluster down ${cluster.name}\`) and let the run create a fresh one`,
      },
    );
  }
}

async function clusterHealthNow(cluster: Cluster, kubectl: string, timeoutMs: number): Promise<string[]> {
  const nodes = await kindNodeAccess(cluster.name).shell.nodes();
  const health = await waitForHealthyCluster(new Kube(cluster.kubeconfigPath, kubectl), nodes.length, { timeoutMs });
  return [...health.infrastructure, ...health.driver];
}

/** `volcert cluster heal <name>`: undoes what stopped runs left open in the cluster, then checks it. */
export async function healCluster(cluster: Cluster, kubectl: string): Promise<boolean> {
  const left = openEntries().filter((e) => e.cluster.name === cluster.name && undoable(e));
  const live = left.filter((e) => e.live);
  if (live.length) {
    throw new InfraError(
      `a run in progress (${[...new Set(live.map((e) => e.runId))].join(", ")}) has faults in cluster ${cluster.name}: it heals them itself`,
      { fix: "wait for it to end (or stop it with Ctrl-C), then heal" },
    );
  }
  if (!left.length) say(`nothing recorded as left in ${cluster.name}`);
  const exists = async () => true;
  const faults = await healFaults(left, { kubectl, clusterExists: exists });
  printSettle("faults", faults);
  const loops = await detachLoops(left, { clusterExists: exists });
  printSettle("loop devices", loops);
  const health = await clusterHealthNow(cluster, kubectl, 4 * 60_000);
  if (health.length) say(`cluster ${cluster.name} is still not healthy:\n  - ${health.join("\n  - ")}`);
  else say(`cluster ${cluster.name} is healthy`);
  return !health.length && !faults.failed.length && !loops.failed.length;
}
