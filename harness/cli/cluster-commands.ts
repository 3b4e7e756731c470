import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot } from "../../clusters/images/cache.ts";
import { loadManifest } from "../../clusters/images/manifest.ts";
import {
  clusterLogFile,
  clusterStateDir,
  isKept,
  KindProvider,
  orphanNetworks,
  removeNetwork,
  removeStateOf,
} from "../../clusters/kind/provider.ts";
import { CLUSTER_PREFIX, parseShape } from "../../clusters/kind/shape.ts";
import { kindNodeAccess } from "../../clusters/kind/nodes.ts";
import { listContainersByLabel, removeContainer } from "../docker/client.ts";
import { OWNER_LABEL, ownerAlive, ROLE_LABEL } from "../../clusters/images/owner.ts";
import { removeUnfinishedBuilds, pruneJournals } from "./sweep-files.ts";
import { raiseKindLimits } from "./host-limits.ts";
import { describeError } from "../core/errors.ts";
import type { JournalCluster } from "../core/journal.ts";
import { lockHolder } from "../core/lock.ts";
import { healCluster, openEntries, type OpenEntry } from "./cluster-health.ts";
import { closeEntry, detachLoops, printSettle } from "./journal-settle.ts";
import { ensureEngine } from "./host.ts";
import { describeDetached, detachOrphanLoops } from "../drivers/loops.ts";
import { ConfigError } from "../core/errors.ts";
import { stoppable } from "../core/interrupt.ts";
import { say, step } from "../core/progress.ts";
import { prepareEnvironment, toolsFor } from "./environment.ts";

export async function clusterUp(opts: {
  name: string;
  workers: number;
  defaultStorageClass: boolean;
  sharedStorage: boolean;
}): Promise<void> {
  const shape = parseShape(opts);
  const env = await prepareEnvironment();
  raiseKindLimits();
  const provider = new KindProvider(env.tools);
  await stoppable(
    `creating cluster ${shape.name}`,
    async () => {
      const cluster = await step(`kind cluster ${shape.name} (1 control plane + ${shape.workers} workers)`, () =>
        provider.create(shape, { logFile: clusterLogFile(shape.name) }),
      );
      await provider.markKept(cluster.name);
      printAccess(cluster.name, cluster.kubeconfigPath, env.tools.kubectl);
    },
    async () => {
      if ((await provider.listAll()).includes(shape.name))
        await step(`delete the half-created cluster ${shape.name}`, () => provider.destroy(shape.name));
    },
  );
}

export function printAccess(name: string, kubeconfig: string, kubectl: string): void {
  console.log(`cluster ${name} is up`);
  console.log(`  kubeconfig: ${kubeconfig}`);
  console.log(`  try:        ${kubectl} --kubeconfig ${kubeconfig} get nodes -o wide`);
  console.log(
    `  node shell: ${kindNodeAccess(name).shell.commandLine(`${name}-control-plane`, "bash", { interactive: true })}`,
  );
  console.log(`  delete:     npm run volcert -- cluster down ${name}`);
}

async function provider(): Promise<KindProvider> {
  await ensureEngine();
  return new KindProvider(toolsFor(loadManifest()));
}

export async function clusterDown(names: string[]): Promise<void> {
  const bad = names.filter((n) => !n.startsWith(CLUSTER_PREFIX));
  if (bad.length) {
    throw new ConfigError(
      "volcert only deletes clusters it created",
      bad.map((n) => `${n}: not named ${CLUSTER_PREFIX}*`),
      {
        fix: "delete other kind clusters with `kind delete cluster --name <name>`",
      },
    );
  }
  const busy = openEntries().filter((e) => e.live && names.includes(e.cluster.name));
  if (busy.length) {
    throw new ConfigError(
      "a run in progress is using the cluster",
      busy.map((e) => `${e.cluster.name}: ${e.what} (run ${e.runId})`),
      { fix: "wait for that run to end, or stop it (Ctrl-C): it cleans up after itself" },
    );
  }
  const p = await provider();
  const left = openEntries().filter((e) => names.includes(e.cluster.name));
  // The loop devices cases attached in its nodes: detached while the nodes still exist.
  printSettle("loop devices", await detachLoops(left, { clusterExists: async () => true }));
  for (const n of names) await step(`delete cluster ${n}`, () => p.destroy(n));
  for (const e of left) closeEntry(e);
  pruneJournals();
  // Loop devices belong to the host kernel and outlive the node containers that attached them.
  for (const l of await detachOrphanLoops()) say(describeDetached(l, "loop device left by a deleted volume"));
}

export async function clusterList(): Promise<void> {
  const p = await provider();
  const all = await p.listAll();
  if (!all.length) console.log("no kind clusters");
  for (const n of all) {
    const ours = n.startsWith(CLUSTER_PREFIX);
    const kc = join(clusterStateDir(n), "kubeconfig");
    console.log(`${n}${ours ? "" : "  (not volcert's)"}${ours && existsSync(kc) ? `  kubeconfig: ${kc}` : ""}`);
  }
}

export async function clusterKubeconfig(name: string): Promise<void> {
  const cluster = await (await provider()).attach(name);
  console.log(cluster.kubeconfigPath);
}

/** `volcert cluster heal <name>`: restores what stopped runs left in a kept cluster, then checks it. */
export async function clusterHeal(name: string): Promise<void> {
  const p = await provider();
  const cluster = await p.attach(name);
  const ok = await healCluster(cluster, toolsFor(loadManifest()).kubectl);
  if (!ok) process.exitCode = 3;
}

/**
 * Removes what volcert left behind on this machine, and only that: clusters volcert created whose
 * run has ended (a live run's lease protects its cluster, its loop devices and its build), the
 * loop devices and faults of dead runs' journals, image-build containers and unfinished outputs of
 * builds that are not running. Clusters with no record of volcert creating them (another tool's,
 * or one built by hand from volcert's node image) are listed and kept, unless `--force`. Every
 * removal is tried; failures are reported at the end.
 */
export async function sweep(opts: { force: boolean }): Promise<void> {
  const p = await provider();
  const plan = await sweepPlan(p);
  const failures: string[] = [];
  let removed = 0;
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      removed++;
    } catch (err) {
      failures.push(`${what}: ${describeError(err)}`);
    }
  };
  // --force never reaches kind clusters of other tools (not named volcert-*): `cluster down` refuses them too.
  const forced = opts.force ? [...plan.kept, ...plan.unknown.filter((c) => c.name.startsWith(CLUSTER_PREFIX))] : [];
  for (const c of plan.inUse) say(`keeping cluster ${c.name}: ${c.why}`);
  for (const c of [...plan.kept, ...plan.unknown]) {
    if (forced.includes(c)) say(`removing cluster ${c.name} (--force): ${c.why}`);
    else
      say(
        `keeping cluster ${c.name}: ${c.why}${c.name.startsWith(CLUSTER_PREFIX) ? " (`cluster down` or --force removes it)" : ""}`,
      );
  }
  const entries = openEntries().filter((e) => !e.live);
  const existing = new Set(await p.listAll());
  const clusterExists = async (c: JournalCluster) => c.provider !== "kind" || existing.has(c.name);
  const loops = await detachLoops(entries, { clusterExists });
  removed += loops.done.length;
  failures.push(...loops.failed);
  for (const c of [...plan.dead, ...forced]) {
    // A run may have started using it since the plan was made (--reuse): looked at again.
    if (openEntries().some((e) => e.live && e.cluster.name === c.name)) {
      say(`keeping cluster ${c.name}: a run started using it`);
      continue;
    }
    await attempt(`cluster ${c.name}`, () =>
      step(`delete leftover cluster ${c.name} (${c.why})`, () => p.destroy(c.name)),
    );
  }
  const gone = new Set(await p.listAll().catch(() => [...existing]));
  for (const e of entries) if (e.cluster.provider === "kind" && !gone.has(e.cluster.name)) closeEntry(e);
  // Containers volcert starts itself (image assembly) carry io.volcert.role=assemble and their
  // owner's lease, set by `docker run` (the node image overwrites both when it is committed).
  for (const c of await listContainersByLabel(ROLE_LABEL, "assemble")) {
    // An image keeps the labels of the container it was committed from (node images built before
    // that was overwritten): a kind node is never an assembly container, whatever its labels.
    if (c.labels["io.x-k8s.kind.cluster"] !== undefined) continue;
    const owner = c.labels[OWNER_LABEL];
    if (owner && ownerAlive(owner) && !opts.force) {
      say(`keeping container ${c.name}: its build is running (${owner})`);
      continue;
    }
    await attempt(`container ${c.name}`, async () => {
      say(`removing leftover container ${c.name} (${c.image}, ${c.state})`);
      await removeContainer(c.id);
    });
  }
  for (const l of await detachOrphanLoops()) {
    say(describeDetached(l, "leftover loop device"));
    if (!l.held) removed++;
  }
  if (!lockHolder("build")) removed += await removeUnfinishedBuilds();
  // A live run's cluster may have its state directory and network before kind lists it.
  const held = openEntries()
    .filter((e) => e.live)
    .map((e) => e.cluster.name);
  const stateRoot = join(cacheRoot(), "clusters");
  if (existsSync(stateRoot)) {
    // With a cluster's shared storage, and the loop devices backed by it (clusters/kind/state.ts).
    for (const d of staleStateDirs(await readdir(stateRoot), [...(await p.listAll()), ...held]))
      await attempt(`state directory of ${d}`, async () => {
        say(`removing the state directory of cluster ${d} (no such cluster)`);
        await removeStateOf(d);
      });
  }
  for (const n of await orphanNetworks([...(await p.listAll()), ...held])) {
    await attempt(`network ${n}`, async () => {
      say(`removing the network ${n} of a deleted cluster`);
      await removeNetwork(n);
    });
  }
  pruneJournals();
  console.log(removed ? `swept ${removed} leftover(s)` : "nothing to sweep");
  if (failures.length) {
    console.log(`${failures.length} could not be removed:\n${failures.map((f) => `  ✘ ${f}`).join("\n")}`);
    process.exitCode = 3;
  }
}

/**
 * The state directories (`<cache>/clusters/<name>`) of volcert clusters that neither kind lists nor
 * a live run holds (a run's cluster has its state directory before kind lists it).
 */
export function staleStateDirs(dirs: readonly string[], liveOrHeld: readonly string[]): string[] {
  const live = new Set(liveOrHeld);
  return dirs.filter((d) => d.startsWith(CLUSTER_PREFIX) && !live.has(d));
}

export interface SweepCluster {
  name: string;
  why: string;
}

export interface SweepPlan {
  /** A live run holds it: never touched. */
  inUse: SweepCluster[];
  /** Kept on purpose (--keep-cluster, `cluster up`): only `--force` removes it. */
  kept: SweepCluster[];
  /** Created by volcert, its run ended, not kept: removed. */
  dead: SweepCluster[];
  /** No record of volcert creating it: only `--force` removes it, and only if named volcert-*. */
  unknown: SweepCluster[];
}

/** Which kind clusters are whose. */
export async function sweepPlan(p: KindProvider): Promise<SweepPlan> {
  return classifyClusters(
    await p.listAll(),
    openEntries(),
    (name) => existsSync(join(clusterStateDir(name), "created.json")),
    isKept,
  );
}

export function classifyClusters(
  clusters: readonly string[],
  entries: readonly OpenEntry[],
  createdByVolcert: (name: string) => boolean,
  kept: (name: string) => boolean,
): SweepPlan {
  const plan: SweepPlan = { inUse: [], kept: [], dead: [], unknown: [] };
  for (const name of clusters) {
    const mine = entries.filter((e) => e.cluster.name === name && e.cluster.provider === "kind");
    const live = mine.find((e) => e.live);
    if (live) plan.inUse.push({ name, why: `run ${live.runId} is using it` });
    else if (createdByVolcert(name) || mine.some((e) => e.record.kind === "cluster" && e.record.created)) {
      if (kept(name)) plan.kept.push({ name, why: "kept on purpose (--keep-cluster or cluster up)" });
      else plan.dead.push({ name, why: "created by volcert, its run has ended" });
    } else plan.unknown.push({ name, why: "no record of volcert creating it" });
  }
  return plan;
}
