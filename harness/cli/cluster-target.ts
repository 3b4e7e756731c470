/**
 * Where a run's suites go: a kind cluster volcert creates (or reuses by name), or an existing
 * cluster given by a kubeconfig, behind one interface. Only this file and the providers know the
 * difference: a kubeconfig cluster is never created, deleted or reconfigured, its nodes are
 * reached through helper pods (removed afterwards), it offers no node lifecycle, and it gets its
 * images itself (volcert cannot put images into an arbitrary cluster's nodes without a registry).
 */
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../clusters/cluster.ts";
import { kindNodeAccess } from "../../clusters/kind/nodes.ts";
import { clusterLogFile, clusterStateDir, type KindProvider } from "../../clusters/kind/provider.ts";
import type { ClusterShape } from "../../clusters/kind/shape.ts";
import { createdWithSharedStorage } from "../../clusters/kind/state.ts";
import { attachKubeconfig } from "../../clusters/kubeconfig/provider.ts";
import { helperPodNodeAccess } from "../../clusters/kubeconfig/nodes.ts";
import { ConfigError } from "../core/errors.ts";
import { exec } from "../core/exec.ts";
import type { RunJournal } from "../core/journal.ts";
import { registerNodeAccess, type NodeAccess } from "../core/nodes.ts";
import { say, step } from "../core/progress.ts";
import { printAccess } from "./cluster-commands.ts";
import { refuseUnhealthy } from "./cluster-health.ts";
import { raiseKindLimits } from "./host-limits.ts";
import { ImageLoads } from "./image-loads.ts";

export interface ClusterTarget {
  cluster: Cluster;
  access: NodeAccess;
  /** The provider can stop, start and freeze nodes (kind). */
  nodeLifecycle: boolean;
  /** Makes images available to the nodes (kind: from the local engine). */
  loadImages(images: readonly string[]): Promise<void>;
  /** Starts making these images available at once, before the installs that need them ask (image-loads.ts). */
  preloadImages?(images: readonly string[]): void;
  /** Stops preloading still under way and waits for it (before the cluster is released). */
  settleImages?(): Promise<void>;
  /** Images loadImages cannot provide. */
  missingImages(images: readonly string[]): Promise<string[]>;
  /** Exports the cluster's logs after a failure (null where the provider cannot). */
  exportLogs(dir: string): Promise<string | null>;
  /** The end of the run: delete the cluster (kind, unless kept) or remove volcert's helper pods. */
  release(keep: boolean): Promise<void>;
}

export async function kindTarget(
  provider: KindProvider,
  shape: ClusterShape,
  opts: { reuse: boolean; kubectl: string; journal: RunJournal },
): Promise<ClusterTarget> {
  // In the journal before it exists: a run stopped during `kind create` still leaves a record.
  const entry = opts.journal.open(
    opts.reuse ? `kind cluster ${shape.name} in use` : `kind cluster ${shape.name} created`,
    { kind: "cluster", created: !opts.reuse },
    { name: shape.name, provider: "kind", kubeconfig: join(clusterStateDir(shape.name), "kubeconfig") },
  );
  raiseKindLimits();
  const cluster = opts.reuse
    ? await step(`reuse kind cluster ${shape.name}`, async () => {
        const attached = await provider.attach(shape.name);
        if (shape.sharedStorage && !createdWithSharedStorage(shape.name))
          throw new ConfigError(
            `cluster ${shape.name} was created without shared storage, which a driver of this run needs (spec.cluster.sharedStorage)`,
            [],
            {
              fix: `run on a fresh cluster (leave out --reuse), or create one with it: volcert cluster up --name ${shape.name} --shared-storage`,
            },
          );
        await refuseUnhealthy(attached, opts.kubectl);
        return attached;
      })
    : await step(`fresh kind cluster ${shape.name} (1 control plane + ${shape.workers} workers)`, () =>
        provider.create(shape, { logFile: clusterLogFile(shape.name), runId: opts.journal.runId }),
      );
  const access = kindNodeAccess(cluster.name);
  registerNodeAccess(access);
  const loads = new ImageLoads(
    (images) => provider.loadImages(cluster.name, images, clusterLogFile(cluster.name)),
    `cluster ${cluster.name}`,
  );
  return {
    cluster,
    access,
    nodeLifecycle: true,
    loadImages: (images) => loads.load(images),
    preloadImages: (images) => loads.preload(images),
    settleImages: () => loads.settle(),
    missingImages: (images) => provider.missingImages(images),
    exportLogs: (dir) => provider.exportLogs(cluster.name, dir),
    async release(keep) {
      if (keep) {
        // A reused cluster's record was only this run's use of it; a kept new one stays recorded
        // (its faults healed), so `cluster sweep` knows it is volcert's once this run has ended.
        if (opts.reuse) opts.journal.close(entry);
        else await provider.markKept(cluster.name);
        printAccess(cluster.name, cluster.kubeconfigPath, opts.kubectl);
        return;
      }
      await step(`delete cluster ${cluster.name}`, () => provider.destroy(cluster.name));
      opts.journal.close(entry);
      // Orphan loop devices are swept once all clusters of the run are released (run.ts): other
      // clusters of this run may still be using theirs.
    },
  };
}

/**
 * An existing cluster. volcert works on a copy of the chosen context (written 0600 into the run
 * directory), so the user's kubeconfig is never written to, whatever kubectl does.
 */
export async function kubeconfigTarget(opts: {
  kubeconfig: string;
  context: string | undefined;
  kubectl: string;
  runDir: string;
  workloadImage: string;
}): Promise<ClusterTarget> {
  const attached = await step(`existing cluster from ${opts.kubeconfig}`, () =>
    attachKubeconfig(opts.kubeconfig, opts.kubectl, opts.context),
  );
  const copy = join(opts.runDir, "kubeconfig");
  const view = await exec(
    opts.kubectl,
    [
      "--kubeconfig",
      attached.kubeconfigPath,
      "config",
      "view",
      "--minify",
      "--flatten",
      "--raw",
      "--context",
      attached.name,
    ],
    { timeoutMs: 30_000 },
  );
  await writeFile(copy, view.stdout, { mode: 0o600 });
  await chmod(copy, 0o600);
  const cluster: Cluster = { ...attached, kubeconfigPath: copy };
  const helper = helperPodNodeAccess(copy, opts.kubectl, { image: opts.workloadImage });
  registerNodeAccess(helper);
  say(
    `cluster ${cluster.name}: volcert did not create it, so it is never changed beyond the test namespaces, classes and helper pods it adds; disruptive cases are skipped unless --allow-disruptive`,
  );
  return {
    cluster,
    access: helper,
    nodeLifecycle: false,
    // The cluster's nodes pull images themselves (from its registries): nothing to load.
    loadImages: async (images) => {
      if (images.length) say(`  the cluster pulls its images itself: ${images.join(", ")}`);
    },
    missingImages: async () => [],
    exportLogs: async () => null,
    async release() {
      await step("remove volcert's node shell pods", () => helper.dispose());
    },
  };
}
