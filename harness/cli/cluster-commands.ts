import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot } from "../../clusters/images/cache.ts";
import { LABEL_MANAGED } from "../../clusters/images/docker-images.ts";
import { loadManifest } from "../../clusters/images/manifest.ts";
import { clusterLogFile, clusterStateDir, KindProvider } from "../../clusters/kind/provider.ts";
import { CLUSTER_PREFIX, parseShape } from "../../clusters/kind/shape.ts";
import { kindNodeAccess } from "../../clusters/kind/nodes.ts";
import { listContainersByLabel, removeContainer } from "../docker/client.ts";
import { ensureDockerEngine } from "../docker/engine.ts";
import { detachOrphanLoops } from "../drivers/loops.ts";
import { ConfigError } from "../core/errors.ts";
import { say, step } from "../core/progress.ts";
import { prepareEnvironment, toolsFor } from "./environment.ts";

export async function clusterUp(opts: { name: string; workers: number; defaultStorageClass: boolean }): Promise<void> {
  const shape = parseShape(opts);
  const env = await prepareEnvironment();
  const provider = new KindProvider(env.tools);
  const cluster = await step(`kind cluster ${shape.name} (1 control plane + ${shape.workers} workers)`, () =>
    provider.create(shape, { logFile: clusterLogFile(shape.name) }),
  );
  printAccess(cluster.name, cluster.kubeconfigPath, env.tools.kubectl);
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
  await ensureDockerEngine();
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
  const p = await provider();
  for (const n of names) await step(`delete cluster ${n}`, () => p.destroy(n));
  // Loop devices belong to the host kernel and outlive the node containers that attached them.
  for (const l of await detachOrphanLoops())
    say(`detached loop device ${l.device} left by a deleted volume (${l.file})`);
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

/** Removes everything volcert may have left behind on this machine. Idempotent. */
export async function sweep(): Promise<void> {
  const p = await provider();
  let removed = 0;
  for (const n of await p.list()) {
    await step(`delete leftover cluster ${n}`, () => p.destroy(n));
    removed++;
  }
  for (const c of await listContainersByLabel(LABEL_MANAGED)) {
    say(`removing leftover container ${c.name} (${c.image}, ${c.state})`);
    await removeContainer(c.id);
    removed++;
  }
  for (const l of await detachOrphanLoops()) {
    say(`detached leftover loop device ${l.device} (${l.file})`);
    removed++;
  }
  const stateRoot = join(cacheRoot(), "clusters");
  if (existsSync(stateRoot)) {
    const live = new Set(await p.listAll());
    for (const d of await readdir(stateRoot)) {
      if (!live.has(d) && d.startsWith(CLUSTER_PREFIX)) await rm(join(stateRoot, d), { recursive: true, force: true });
    }
  }
  console.log(removed ? `swept ${removed} leftover(s)` : "nothing to sweep");
}
