/**
 * Helm installer (spec.helm): a real release, as a vendor's users would install it, made to work
 * without a registry. Steps: render the chart (`helm template`, with the cluster's Kubernetes
 * version) → the same cross-checks as manifests, every problem at once (ConfigError) → load the
 * images it runs into the nodes → create the release namespace (labelled, so volcert can delete it
 * later: Helm never deletes a namespace it created) → `helm upgrade --install` without --wait,
 * with volcert's post-renderer applying csi.imageRewrites and IfNotPresent pull policies → the
 * named waits every CSI install gets (workloads ready, CSINode registration) → StorageClasses.
 * Uninstalling is `helm uninstall --wait`, then the namespace. Every helm call goes through
 * core/exec.ts with a timeout, an explicit --kubeconfig and Helm's own state kept out of $HOME.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, DriverDefect, HarnessBug, InfraError } from "../core/errors.ts";
import { CommandError, exec, lastLines } from "../core/exec.ts";
import { say } from "../core/progress.ts";
import type { Kube } from "../k8s/kube.ts";
import { finishCsiInstall, loadDriverImages, removeDriver, runningWorkloads, type CsiTarget } from "./csi.ts";
import type { ImageTable } from "./builtin-images.ts";
import type { K8sObject } from "./csi-manifests.ts";
import type { HelmSpec } from "./helm-chart.ts";
import { checkRendered, parseRendered } from "./helm-render.ts";
import type { DriverFile } from "./schema.ts";
import { driverTimeout } from "./timeouts.ts";

export interface HelmTarget extends CsiTarget {
  /** The helm binary (volcert's toolchain builds it: step go-helm). */
  helm?: string;
}

export interface HelmInstall {
  /** The release's objects as rendered (hooks excluded), waited for on uninstall. */
  objects: K8sObject[];
}

const POST_RENDERER = fileURLToPath(new URL("./helm-post-render.mjs", import.meta.url));
/** Labels of a namespace volcert created for a release; only such a namespace is deleted. */
const OWNER = "app.kubernetes.io/managed-by";
const DRIVER = "volcert.io/driver";
/** helm template reads only local files; installs get the driver's install timeout plus this. */
const RENDER_TIMEOUT_MS = 2 * 60_000;
const SLACK_MS = 60_000;

/** Helm's config, cache and data directories, out of $HOME; no kubeconfig or context from the environment. */
function helmEnv(): Record<string, string | undefined> {
  const home = join(tmpdir(), "volcert-helm");
  return {
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_DATA_HOME: join(home, "data"),
    KUBECONFIG: undefined,
    HELM_KUBECONTEXT: undefined,
    HELM_NAMESPACE: undefined,
    HELM_KUBEAPISERVER: undefined,
    HELM_KUBETOKEN: undefined,
  };
}

/** --values and --set-json arguments, in the driver file's order. */
export function valueArgs(helm: HelmSpec, valueFiles: readonly string[]): string[] {
  return [
    ...valueFiles.flatMap((f) => ["--values", f]),
    // --set-json keeps each value's YAML type; JSON never needs the escaping --set's commas do.
    ...Object.entries(helm.set).flatMap(([k, v]) => ["--set-json", `${k}=${JSON.stringify(v)}`]),
  ];
}

export function templateArgs(helm: HelmSpec, chart: string, valueFiles: readonly string[], kubeVersion: string) {
  return [
    "template",
    helm.release,
    chart,
    "--namespace",
    helm.namespace,
    "--kube-version",
    kubeVersion,
    "--skip-tests",
    ...valueArgs(helm, valueFiles),
  ];
}

/** `rewrites`: what the post-renderer applies to the release's objects (RenderCheck.rewrites). */
export function installArgs(
  d: DriverFile,
  chart: string,
  valueFiles: readonly string[],
  kubeconfig: string,
  rewrites: Readonly<Record<string, string>>,
  node = process.execPath,
): string[] {
  const helm = d.spec.helm!;
  return [
    "upgrade",
    "--install",
    helm.release,
    chart,
    "--namespace",
    helm.namespace,
    "--kubeconfig",
    kubeconfig,
    // Hooks are bounded by it; readiness is volcert's own named waits.
    "--timeout",
    `${Math.ceil(driverTimeout(d, "install") / 1000)}s`,
    "--post-renderer",
    node,
    "--post-renderer-args",
    POST_RENDERER,
    "--post-renderer-args",
    JSON.stringify(rewrites),
    ...valueArgs(helm, valueFiles),
  ];
}

export function uninstallArgs(d: DriverFile, kubeconfig: string): string[] {
  const helm = d.spec.helm!;
  return [
    "uninstall",
    helm.release,
    "--namespace",
    helm.namespace,
    "--kubeconfig",
    kubeconfig,
    "--wait",
    "--timeout",
    `${Math.ceil(driverTimeout(d, "install") / 1000)}s`,
    "--ignore-not-found",
  ];
}

function helmBinary(d: DriverFile, t: { helm?: string | undefined }): string {
  if (!t.helm) throw new HarnessBug(`driver ${d.metadata.name} is a Helm chart, but the installer got no helm binary`);
  if (!existsSync(t.helm))
    throw new InfraError(`the helm binary ${t.helm} does not exist`, {
      fix: "build it: npm run volcert -- images build go-helm",
    });
  return t.helm;
}

/**
 * The chart and value files as absolute paths. Loading the driver checked them against its
 * directory tree (which for fixtures is all of fixtures/drivers); here they must still exist.
 */
function chartPaths(d: DriverFile, baseDir: string): { chart: string; values: string[] } {
  const helm = d.spec.helm!;
  const chart = resolve(baseDir, helm.chart);
  const values = helm.values.map((v) => resolve(baseDir, v));
  const missing = [chart, ...values].filter((p) => !existsSync(p));
  if (missing.length)
    throw new ConfigError(`driver ${d.metadata.name}: its chart files are gone since it was loaded`, missing);
  return { chart, values };
}

/**
 * Renders the chart as Helm will install it on a cluster of `kubeVersion` and cross-checks it;
 * throws a ConfigError listing every problem. Needs no cluster, so the CLI can also call it before
 * creating one, for the images a chart needs (RenderCheck.images).
 */
export async function renderChart(
  d: DriverFile,
  baseDir: string,
  helmPath: string,
  kubeVersion: string,
  builtin: ImageTable = {},
) {
  const helm = d.spec.helm!;
  const { chart, values } = chartPaths(d, baseDir);
  const r = await exec(helmPath, templateArgs(helm, chart, values, kubeVersion), {
    timeoutMs: RENDER_TIMEOUT_MS,
    env: helmEnv(),
    nothrow: true,
  });
  if (!r.ok)
    throw new ConfigError(`driver ${d.metadata.name}: helm template of ${helm.chart} failed`, [
      lastLines(r.stderr || r.stdout, 15),
    ]);
  const rendered = parseRendered(r.stdout, helm.namespace);
  const check = checkRendered(d, rendered, builtin);
  if (check.problems.length)
    throw new ConfigError(
      `driver ${d.metadata.name}: its chart, rendered, does not match the driver file`,
      check.problems,
    );
  return { ...rendered, ...check, chart, values };
}

export async function installHelm(d: DriverFile, baseDir: string, t: HelmTarget): Promise<HelmInstall> {
  const helm = d.spec.helm;
  if (!helm) throw new ConfigError(`driver ${d.metadata.name} has no spec.helm section`);
  const helmPath = helmBinary(d, t);
  const rendered = await renderChart(d, baseDir, helmPath, await t.kube.serverVersion(), t.builtinRewrites);
  const { chart, values } = rendered;
  // Hook pods run too, so their images are loaded as well (rewriting them changes only this copy).
  await loadDriverImages(d, [...rendered.objects, ...rendered.hooks], t);
  await ensureNamespace(d, t.kube);
  const running = await runningWorkloads(d, t.kube);
  say(`  ${d.metadata.name}: helm upgrade --install ${helm.release} (namespace ${helm.namespace})`);
  const r = await exec(helmPath, installArgs(d, chart, values, t.kube.kubeconfigPath, rendered.rewrites), {
    timeoutMs: driverTimeout(d, "install") + SLACK_MS,
    env: helmEnv(),
    nothrow: true,
  });
  if (!r.ok) throw installFailure(d, r);
  await finishCsiInstall(d, t.kube, running);
  return { objects: rendered.objects };
}

/**
 * The API server unreachable is the infrastructure's failure; objects of another owner in the way
 * are bad input; a release Helm or the cluster refused otherwise (a hook failed, an object the
 * API rejects) is the chart's, so the driver's.
 */
function installFailure(d: DriverFile, r: Awaited<ReturnType<typeof exec>>): Error {
  const unreachable = /cluster unreachable|connection refused|i\/o timeout|no such host|TLS handshake timeout/i;
  if (r.exitCode === null || unreachable.test(r.stderr)) return new CommandError(r);
  if (/exists and cannot be imported into the current release/.test(r.stderr))
    return new ConfigError(
      `driver ${d.metadata.name}: the chart's objects clash with objects already in the cluster that this release does not own`,
      [lastLines(r.stderr, 5)],
      { fix: "give the objects names of their own (chart values), or remove what an earlier install left" },
    );
  return new DriverDefect(
    `driver ${d.metadata.name}: helm upgrade --install ${d.spec.helm?.release} failed:\n${lastLines(r.stderr || r.stdout, 15)}`,
  );
}

async function ensureNamespace(d: DriverFile, kube: Kube): Promise<void> {
  const helm = d.spec.helm!;
  const existing = await kube.readIfExists("Namespace", helm.namespace);
  if (existing) return;
  if (!helm.createNamespace)
    throw new ConfigError(
      `driver ${d.metadata.name}: namespace ${helm.namespace} does not exist and spec.helm.createNamespace is false`,
    );
  await kube.apply({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: helm.namespace, labels: { [OWNER]: "volcert", [DRIVER]: d.metadata.name } },
  });
}

/**
 * `helm uninstall --wait`, the StorageClasses, then the release namespace if volcert created it
 * for this driver; waits until the release's objects and that namespace are gone. Also removes a
 * partial install (no render known: `objects` empty), which is why a missing release is no error.
 */
export async function uninstallHelm(d: DriverFile, install: HelmInstall, t: HelmTarget): Promise<void> {
  const helm = d.spec.helm!;
  const kube = t.kube;
  const ns = await kube.readIfExists("Namespace", helm.namespace);
  const ours = ns?.metadata?.labels?.[OWNER] === "volcert" && ns.metadata.labels[DRIVER] === d.metadata.name;
  const gone = [...install.objects, ...(ours ? [{ apiVersion: "v1", kind: "Namespace", metadata: ns.metadata }] : [])];
  await removeDriver(d, kube, gone, async (attempt) => {
    await attempt(`helm uninstall ${helm.release}`, () =>
      exec(helmBinary(d, t), uninstallArgs(d, kube.kubeconfigPath), {
        timeoutMs: driverTimeout(d, "install") + SLACK_MS,
        env: helmEnv(),
      }),
    );
    if (ours) await attempt(`Namespace ${helm.namespace}`, () => kube.deleteIfExists("Namespace", helm.namespace));
  });
}

/** Whether Helm still has the release (any state): for checks that an uninstall left nothing. */
export async function releaseExists(d: DriverFile, t: HelmTarget): Promise<boolean> {
  const helm = d.spec.helm!;
  const r = await exec(
    helmBinary(d, t),
    ["status", helm.release, "--namespace", helm.namespace, "--kubeconfig", t.kube.kubeconfigPath],
    { timeoutMs: RENDER_TIMEOUT_MS, env: helmEnv(), nothrow: true },
  );
  if (r.ok) return true;
  if (/release: not found/.test(r.stderr)) return false;
  throw new CommandError(r);
}
