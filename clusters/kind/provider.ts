/**
 * kind cluster provider: create, destroy, list, kubeconfig, load images, export logs. It never
 * touches the user's ~/.kube/config: each cluster's kubeconfig lives in volcert's state directory.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { InfraError } from "../../harness/core/errors.ts";
import { exec, lastLines } from "../../harness/core/exec.ts";
import { say } from "../../harness/core/progress.ts";
import { Slots } from "../../harness/core/slots.ts";
import { waitFor } from "../../harness/core/wait.ts";
import { cacheRoot } from "../images/cache.ts";
import type { KindCluster } from "../cluster.ts";
import { imagesToLoad } from "./image-presence.ts";
import { CLUSTER_LABEL, clusterNetwork, nodeNames } from "./nodes.ts";
import { CLUSTER_PREFIX, kindConfig, type ClusterShape } from "./shape.ts";
import { clusterStateDir, removeClusterState, sharedStorageDir } from "./state.ts";

export { clusterStateDir };

interface NodeStatusView {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Whether a cluster was kept on purpose (markKept). */
export function isKept(name: string): boolean {
  return existsSync(join(clusterStateDir(name), "kept"));
}

export interface KindTools {
  kind: string;
  kubectl: string;
  nodeImage: string;
}

/**
 * `kind create` runs at most one per CPU core at a time in this process. Each one boots three
 * node containers, unpacks the control-plane images and waits for kubeadm; five at once on two
 * cores took kubeadm past its own API deadline ("could not bootstrap the admin user ... context
 * deadline exceeded") on a machine where three at once took 2m50s.
 */
export const CREATION_SLOTS = Math.max(1, availableParallelism());
const CREATES = new Slots(CREATION_SLOTS);

/** kubeadm gave up inside a node (init or join): what an overloaded host does, worth one more try. */
export function isKubeadmFailure(output: string): boolean {
  return /failed to (init|join) node with kubeadm/.test(output);
}

export class KindProvider {
  constructor(private readonly tools: KindTools) {}

  /** Every kind cluster on this Docker engine (volcert's and others'). */
  async listAll(): Promise<string[]> {
    const r = await exec(this.tools.kind, ["get", "clusters"], { timeoutMs: 60_000 });
    return r.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("No kind clusters"));
  }

  async list(): Promise<string[]> {
    return (await this.listAll()).filter((n) => n.startsWith(CLUSTER_PREFIX));
  }

  /** Creates the cluster once a creation slot is free (first asked, first served). */
  async create(shape: ClusterShape, opts: { logFile: string; waitMs?: number; runId?: string }): Promise<KindCluster> {
    if (CREATES.full)
      say(
        `${shape.name} waits for a creation slot (${CREATES.size} kind clusters are created at a time, one per CPU core)`,
      );
    return CREATES.use(() => this.createNow(shape, opts));
  }

  private async createNow(
    shape: ClusterShape,
    opts: { logFile: string; waitMs?: number; runId?: string },
  ): Promise<KindCluster> {
    if ((await this.listAll()).includes(shape.name)) {
      throw new InfraError(`a kind cluster named ${shape.name} already exists`, {
        fix: `reuse it (--reuse), delete it (volcert cluster down ${shape.name}) or pick another name`,
      });
    }
    const dir = clusterStateDir(shape.name);
    const configPath = join(dir, "kind-config.yaml");
    const kubeconfigPath = join(dir, "kubeconfig");
    await this.prepareState(shape, configPath);
    const waitS = Math.round((opts.waitMs ?? 5 * 60_000) / 1000);
    let r = await this.kindCreate(shape, configPath, kubeconfigPath, waitS, opts.logFile);
    if (!r.ok && isKubeadmFailure(r.stderr || r.stdout)) {
      say(
        `${shape.name}: kubeadm failed inside a node (${firstError(r.stderr || r.stdout)}); deleting it and trying once more`,
      );
      await this.exportLogs(shape.name, opts.logFile.replace(/\.log$/, "-first-try-node-logs")).catch(() => undefined);
      await this.destroy(shape.name).catch(() => undefined);
      // destroy removed the state directory: the kind config and the shared storage go with it.
      await this.prepareState(shape, configPath);
      r = await this.kindCreate(shape, configPath, kubeconfigPath, waitS, opts.logFile);
    }
    if (!r.ok) {
      const logsDir = opts.logFile.replace(/\.log$/, "-node-logs");
      await this.exportLogs(shape.name, logsDir).catch(() => undefined);
      await this.destroy(shape.name).catch(() => undefined);
      throw new InfraError(
        `kind could not create cluster ${shape.name}:\n${lastLines(r.stderr || r.stdout, 12)}\n  node logs: ${logsDir}\n  full log: ${opts.logFile}`,
      );
    }
    await chmod(kubeconfigPath, 0o600); // kind writes it 0600 today; the cluster's admin credentials
    await this.waitForNodesReady(kubeconfigPath, shape.workers + 1, opts.waitMs ?? 5 * 60_000);
    await writeFile(
      join(dir, "created.json"),
      `${JSON.stringify({ createdAt: new Date().toISOString(), runId: opts.runId, shape }, null, 2)}\n`,
    );
    if (!shape.defaultStorageClass) {
      // Retried: a freshly created control plane on a loaded host answers "etcdserver: request
      // timed out" now and then (seen with five clusters on two cores).
      await waitFor(
        `kind's default StorageClass "standard" deleted from ${shape.name}`,
        async () => {
          const r = await exec(
            this.tools.kubectl,
            ["--kubeconfig", kubeconfigPath, "delete", "storageclass", "standard", "--ignore-not-found"],
            { timeoutMs: 60_000, logFile: opts.logFile, nothrow: true },
          );
          return { done: r.ok, seen: r.ok ? "deleted" : lastLines(r.stderr || r.stdout, 1) };
        },
        { timeoutMs: 3 * 60_000, intervalMs: 3000, blame: "infrastructure" },
      );
    }
    return this.handle(shape.name);
  }

  /** A fresh state directory for `kind create`: its kind config and, for the shape, its shared storage. */
  private async prepareState(shape: ClusterShape, configPath: string): Promise<void> {
    // What a deleted cluster of this name left (its shared storage's loop devices first).
    await removeStateOf(shape.name);
    await mkdir(clusterStateDir(shape.name), { recursive: true, mode: 0o700 });
    // Mounted into every node by kindConfig; it must exist before the nodes do.
    if (shape.sharedStorage) await mkdir(sharedStorageDir(shape.name), { mode: 0o755 });
    await writeFile(configPath, kindConfig(shape));
  }

  private kindCreate(shape: ClusterShape, configPath: string, kubeconfigPath: string, waitS: number, logFile: string) {
    return exec(
      this.tools.kind,
      [
        "create",
        "cluster",
        "--name",
        shape.name,
        "--image",
        this.tools.nodeImage,
        "--config",
        configPath,
        "--kubeconfig",
        kubeconfigPath,
        "--wait",
        `${waitS}s`,
        "--retain",
      ],
      {
        nothrow: true,
        timeoutMs: (waitS + 600) * 1000,
        logFile,
        // The cluster's own network (kind creates it): see clusterNetwork.
        env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: clusterNetwork(shape.name) },
      },
    );
  }

  /** kind --wait only covers the control plane; suites need every node. */
  private async waitForNodesReady(kubeconfigPath: string, expected: number, timeoutMs: number): Promise<void> {
    await waitFor(
      `all ${expected} nodes Ready`,
      async () => {
        const r = await exec(this.tools.kubectl, ["--kubeconfig", kubeconfigPath, "get", "nodes", "-o", "json"], {
          timeoutMs: 30_000,
        });
        const nodes = (JSON.parse(r.stdout) as { items: NodeStatusView[] }).items;
        const states = nodes.map(
          (n) =>
            `${n.metadata.name}=${n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? "Ready" : "NotReady"}`,
        );
        const ready = states.filter((s) => s.endsWith("=Ready")).length;
        return { done: nodes.length === expected && ready === expected, seen: states.join(", ") || "no nodes" };
      },
      { timeoutMs, intervalMs: 2000, blame: "infrastructure" },
    );
  }

  /**
   * Marks a cluster as kept on purpose (--keep-cluster, `cluster up`): `cluster sweep` removes
   * leftovers, not these (`cluster down` or `sweep --force` does).
   */
  async markKept(name: string): Promise<void> {
    await writeFile(join(clusterStateDir(name), "kept"), `${new Date().toISOString()}\n`, { mode: 0o600 });
  }

  /** A handle on an existing volcert kind cluster. */
  async attach(name: string): Promise<KindCluster> {
    if (!(await this.listAll()).includes(name)) {
      throw new InfraError(`no kind cluster named ${name} exists`, {
        fix: "list clusters with `volcert cluster list`",
      });
    }
    const kubeconfigPath = join(clusterStateDir(name), "kubeconfig");
    if (!existsSync(kubeconfigPath)) {
      await mkdir(clusterStateDir(name), { recursive: true, mode: 0o700 });
      await writeFile(kubeconfigPath, await this.kubeconfig(name), { mode: 0o600 });
    }
    await chmod(kubeconfigPath, 0o600); // also one an older volcert wrote 0644
    return this.handle(name);
  }

  private handle(name: string): KindCluster {
    return {
      name,
      kubeconfigPath: join(clusterStateDir(name), "kubeconfig"),
      provider: "kind",
      createdByVolcert: name.startsWith(CLUSTER_PREFIX) && existsSync(join(clusterStateDir(name), "created.json")),
    };
  }

  /**
   * `--kubeconfig` always: without it kind locks and rewrites $KUBECONFIG or ~/.kube/config to
   * remove the cluster's entry. The file kind locks must have a directory to lock in.
   */
  async destroy(name: string): Promise<void> {
    await mkdir(clusterStateDir(name), { recursive: true, mode: 0o700 });
    const kubeconfig = join(clusterStateDir(name), "kubeconfig");
    await exec(this.tools.kind, ["delete", "cluster", "--name", name, "--kubeconfig", kubeconfig], {
      timeoutMs: 5 * 60_000,
    });
    // kind never removes a network; the cluster's own goes with it (absent for older clusters).
    await removeNetwork(clusterNetwork(name));
    // Once the nodes are gone: their loop devices on the shared storage are no longer mounted.
    await removeStateOf(name);
  }

  /** Read from the control-plane node; kind reads and writes no kubeconfig file for this (nor for export logs). */
  async kubeconfig(name: string): Promise<string> {
    return (await exec(this.tools.kind, ["get", "kubeconfig", "--name", name], { timeoutMs: 60_000 })).stdout;
  }

  /**
   * Loads the images not already in every node (same ID, same name: clusters made from the
   * drivers' node image variant have the reference drivers' images); returns those it loaded.
   */
  async loadImages(name: string, images: readonly string[], logFile?: string): Promise<string[]> {
    const left = await this.imagesNotInNodes(name, images);
    if (left.length)
      await exec(this.tools.kind, ["load", "docker-image", "--name", name, ...left], {
        timeoutMs: 20 * 60_000,
        ...(logFile ? { logFile } : {}),
      });
    return left;
  }

  /** image-presence.ts: one `crictl images` per node; anything unclear means "load it". */
  private async imagesNotInNodes(name: string, images: readonly string[]): Promise<string[]> {
    const opts = { nothrow: true, timeoutMs: 60_000 };
    const [ids, ps] = await Promise.all([
      exec("docker", ["image", "inspect", "--format", "{{.Id}}", ...images], opts),
      exec("docker", ["ps", "--all", "--filter", `label=${CLUSTER_LABEL}=${name}`, "--format", "{{.Names}}"], opts),
    ]);
    // A missing image, or no node listed: kind load says what is wrong.
    if (!ids.ok || !ps.ok) return [...images];
    const lists = await Promise.all(
      nodeNames(ps.stdout).map(async (node) => {
        const r = await exec("docker", ["exec", node, "crictl", "images", "-o", "json"], opts);
        return r.ok ? r.stdout : null;
      }),
    );
    return imagesToLoad(images, ids.stdout.trim().split("\n"), lists);
  }

  /**
   * Loads an image archive (`docker save` output) into the local engine, from where `loadImages`
   * puts images into the nodes. Returns the image names it held.
   */
  async loadArchive(file: string): Promise<string[]> {
    const r = await exec("docker", ["load", "--input", file], { timeoutMs: 20 * 60_000 });
    return [...r.stdout.matchAll(/^Loaded image(?: ID)?: (\S+)$/gm)].map((m) => m[1] as string);
  }

  /** The images `loadImages` cannot load: not in the local Docker engine (there is no registry). */
  async missingImages(images: readonly string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const image of images) {
      const r = await exec("docker", ["image", "inspect", "--format", "{{.Id}}", image], {
        nothrow: true,
        timeoutMs: 30_000,
      });
      if (!r.ok) missing.push(image);
    }
    return missing;
  }

  async exportLogs(name: string, dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    await exec(this.tools.kind, ["export", "logs", "--name", name, dir], { timeoutMs: 5 * 60_000 });
    return dir;
  }
}

/** The cluster's state directory and shared storage (state.ts), saying which loop devices it detached. */
export async function removeStateOf(name: string): Promise<void> {
  for (const device of await removeClusterState(name))
    say(`detached loop device ${device} backed by the shared storage of cluster ${name}`);
}

/** Where the log of creating a cluster goes (outside its state dir, which create() resets). */
export function clusterLogFile(name: string): string {
  return join(cacheRoot(), "logs", `cluster-${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
}

/** Removes a Docker network volcert created for a cluster; a missing one is fine. */
export async function removeNetwork(name: string): Promise<void> {
  const r = await exec("docker", ["network", "rm", name], { nothrow: true, timeoutMs: 60_000 });
  if (!r.ok && !/not found|No such network/i.test(r.stderr))
    throw new InfraError(`docker network rm ${name}: ${r.stderr.trim()}`);
}

/**
 * Networks of volcert clusters that no longer exist (a cluster deleted without volcert). A
 * network younger than an hour is left alone: kind creates it before the nodes, so a cluster
 * being created (by `cluster up`, or a run with another VOLCERT_CACHE) has one kind does not list.
 */
export async function orphanNetworks(liveClusters: readonly string[], now = Date.now()): Promise<string[]> {
  const r = await exec("docker", ["network", "ls", "--format", "{{.Name}}\t{{.CreatedAt}}"], { timeoutMs: 60_000 });
  const live = new Set(liveClusters.map(clusterNetwork));
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split("\t"))
    .filter(([n, created]) => {
      if (!n || !n.startsWith(CLUSTER_PREFIX) || !n.endsWith("-net") || live.has(n)) return false;
      const at = Date.parse((created ?? "").replace(/ \+0000 UTC$/, "Z").replace(" ", "T"));
      return Number.isFinite(at) && now - at > 60 * 60_000;
    })
    .map(([n]) => n as string);
}

/** The first line of kind's output that says what failed. */
function firstError(output: string): string {
  const line = output.split("\n").find((l) => /^ERROR:|error execution phase/.test(l.trim()));
  return (line ?? lastLines(output, 1)).trim().slice(0, 200);
}
