/**
 * The Kubernetes API layer, the only file that imports @kubernetes/client-node. Objects are the
 * library's own model types. Every request, typed (`core`, `storage`) or generic (`read`, `list`,
 * `apply`, `delete`, patches), is bounded: it carries a timeout and the current case's abort
 * signal, and a request that gets no answer in time is an ApiRequestTimeout (infrastructure)
 * naming the request and the limit. A watch is bounded too: timeoutSeconds on the request, the
 * request timeout until the server answers, and the case's signal (see watch.ts). "Gone" means one
 * thing, `isNotFound` (api-errors.ts).
 *
 * kubectl stays only for what the API does awkwardly: logs and drain (eviction with its retries and
 * DaemonSet rules). Commands in pods go through the exec subresource (pod-exec.ts).
 */
import * as k8s from "@kubernetes/client-node";
import { currentSignal, effectiveSignal } from "../core/abort.ts";
import { InfraError } from "../core/errors.ts";
import { exec, lastLines, tallyCommand, type ExecResult } from "../core/exec.ts";
import { toApiError, ApiError, ApiRequestTimeout, isNotFound, PodCommandFailed, PodUnreachable } from "./api-errors.ts";
import { podExec, type PodExecTarget } from "./pod-exec.ts";
import { CollectionWatch, type ReceivedEvent, type WireObject } from "./watch.ts";
import {
  SNAPSHOT_API,
  type VolumeSnapshot,
  type VolumeSnapshotClass,
  type VolumeSnapshotContent,
} from "./snapshot-types.ts";

export type V1Pod = k8s.V1Pod;
export type V1Node = k8s.V1Node;
export type V1NodeSelectorRequirement = k8s.V1NodeSelectorRequirement;
export type V1PersistentVolumeClaim = k8s.V1PersistentVolumeClaim;
export type V1PersistentVolume = k8s.V1PersistentVolume;
export type V1StorageClass = k8s.V1StorageClass;
export type V1DaemonSet = k8s.V1DaemonSet;
export type V1Deployment = k8s.V1Deployment;
export type V1StatefulSet = k8s.V1StatefulSet;
export type V1Taint = k8s.V1Taint;
export type V1CSIStorageCapacity = k8s.V1CSIStorageCapacity;
export type CoreEvent = k8s.CoreV1Event;
/** Any object with apiVersion, kind and metadata (a manifest). */
export type Manifest = k8s.KubernetesObject;

/** The kinds the generic calls know, with their model types. */
interface Models {
  Pod: k8s.V1Pod;
  PersistentVolumeClaim: k8s.V1PersistentVolumeClaim;
  PersistentVolume: k8s.V1PersistentVolume;
  Namespace: k8s.V1Namespace;
  Node: k8s.V1Node;
  ConfigMap: k8s.V1ConfigMap;
  StorageClass: k8s.V1StorageClass;
  VolumeAttachment: k8s.V1VolumeAttachment;
  CSIDriver: k8s.V1CSIDriver;
  CSINode: k8s.V1CSINode;
  CSIStorageCapacity: k8s.V1CSIStorageCapacity;
  DaemonSet: k8s.V1DaemonSet;
  Deployment: k8s.V1Deployment;
  StatefulSet: k8s.V1StatefulSet;
  VolumeSnapshot: VolumeSnapshot;
  VolumeSnapshotContent: VolumeSnapshotContent;
  VolumeSnapshotClass: VolumeSnapshotClass;
}
export type Kind = keyof Models;
export type Model<K extends Kind> = Models[K];

const API_VERSION: Record<Kind, string> = {
  Pod: "v1",
  PersistentVolumeClaim: "v1",
  PersistentVolume: "v1",
  Namespace: "v1",
  Node: "v1",
  ConfigMap: "v1",
  StorageClass: "storage.k8s.io/v1",
  VolumeAttachment: "storage.k8s.io/v1",
  CSIDriver: "storage.k8s.io/v1",
  CSINode: "storage.k8s.io/v1",
  CSIStorageCapacity: "storage.k8s.io/v1",
  DaemonSet: "apps/v1",
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  VolumeSnapshot: SNAPSHOT_API,
  VolumeSnapshotContent: SNAPSHOT_API,
  VolumeSnapshotClass: SNAPSHOT_API,
};

export interface ListOptions {
  /** Omitted for a namespaced kind: every namespace. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
}

export interface WatchOptions {
  /** Omitted: every namespace (or a cluster-scoped kind). */
  namespace?: string;
  /** Sent as the request's timeoutSeconds: the API server ends the watch after this. */
  timeoutSeconds: number;
  /** Stops the watch when aborted; defaults to the current case's signal. */
  signal?: AbortSignal;
}

export interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "test";
  path: string;
  value?: unknown;
}

/** What a command run in a pod did (it ran: the API server reached the container). */
export interface PodCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Server-side apply owner of every field volcert sets. */
const FIELD_MANAGER = "volcert";
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class Kube {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly storage: k8s.StorageV1Api;
  readonly requestTimeoutMs: number;
  private readonly objects: ObjectApi;
  private readonly versionApi: k8s.VersionApi;
  /** For watches: the library's Watch makes its own requests from the kubeconfig. */
  private readonly kc: k8s.KubeConfig;

  constructor(
    readonly kubeconfigPath: string,
    private readonly kubectlPath: string,
    opts: { requestTimeoutMs?: number } = {},
  ) {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new InfraError(`kubeconfig ${kubeconfigPath} names no current cluster`);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // What KubeConfig.makeApiClient builds, plus the bounded transport.
    const config = k8s.createConfiguration({
      baseServer: new k8s.ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      httpApi: k8s.wrapHttpLibrary(new BoundedFetch(this.requestTimeoutMs)),
    });
    this.core = withReadableErrors(new k8s.CoreV1Api(config));
    this.apps = withReadableErrors(new k8s.AppsV1Api(config));
    this.storage = withReadableErrors(new k8s.StorageV1Api(config));
    this.objects = new ObjectApi(config, kc);
    this.versionApi = new k8s.VersionApi(config);
  }

  /** The API server's version (gitVersion, e.g. v1.34.10). */
  async serverVersion(): Promise<string> {
    return (await this.call("read the server version", () => this.versionApi.getCode())).gitVersion;
  }

  async read<K extends Kind>(kind: K, name: string, namespace?: string): Promise<Model<K>> {
    return this.call(`read ${kind} ${ref(name, namespace)}`, () =>
      this.objects.read(header(kind, name, namespace)),
    ) as Promise<Model<K>>;
  }

  /** The object, or undefined if the API server says it does not exist (any other failure throws). */
  async readIfExists<K extends Kind>(kind: K, name: string, namespace?: string): Promise<Model<K> | undefined> {
    try {
      return await this.read(kind, name, namespace);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** readIfExists for a manifest of any kind (a driver's objects). */
  async readObjectIfExists(manifest: Manifest): Promise<Manifest | undefined> {
    const m = manifest.metadata;
    try {
      return await this.call(`read ${manifest.kind} ${ref(m?.name ?? "?", m?.namespace)}`, () =>
        this.objects.read({
          apiVersion: manifest.apiVersion ?? "v1",
          kind: manifest.kind ?? "",
          metadata: { name: m?.name ?? "", ...(m?.namespace ? { namespace: m.namespace } : {}) },
        }),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<Model<K>[]> {
    const where = [opts.namespace ? `in ${opts.namespace}` : "", opts.labelSelector ?? "", opts.fieldSelector ?? ""];
    const list = await this.call(`list ${kind} ${where.filter(Boolean).join(" ")}`.trim(), () =>
      this.objects.list<Model<K>>(
        API_VERSION[kind],
        kind,
        opts.namespace,
        undefined,
        undefined,
        undefined,
        opts.fieldSelector,
        opts.labelSelector,
      ),
    );
    // Items of a list come without apiVersion and kind; put them back so each item stands alone.
    for (const item of list.items) Object.assign(item, { apiVersion: API_VERSION[kind], kind });
    return list.items;
  }

  /**
   * Server-side apply (field manager "volcert", conflicts forced, like `kubectl apply
   * --server-side --force-conflicts`): creates the object or makes the fields volcert manages what
   * the manifest says. `namespace` is set on the manifest if given.
   */
  async apply<T extends Manifest>(manifest: T, namespace?: string): Promise<T> {
    const obj = namespace ? { ...manifest, metadata: { ...manifest.metadata, namespace } } : manifest;
    return this.call(`apply ${obj.kind} ${ref(obj.metadata?.name ?? "?", obj.metadata?.namespace)}`, () =>
      this.objects.patchAsIs<T>(obj, k8s.PatchStrategy.ServerSideApply, obj, {
        fieldManager: FIELD_MANAGER,
        force: "true",
      }),
    );
  }

  /**
   * Lists `kind` and watches it from the list's resourceVersion, handing every item and change to
   * `onEvent` with its client receipt time (see CollectionWatch for drops and errors). Resolves
   * once the API server accepted the watch, so whatever is created afterwards is seen.
   */
  async watch(kind: Kind, opts: WatchOptions, onEvent: (e: ReceivedEvent) => void): Promise<CollectionWatch> {
    const what = `${kind} ${opts.namespace ? `in ${opts.namespace}` : "(all namespaces)"}`;
    const path = await this.call(`find the API path of ${kind}`, () =>
      this.objects.collectionPath(API_VERSION[kind], kind, opts.namespace),
    );
    const signal = effectiveSignal(opts.signal);
    return new CollectionWatch(
      what,
      {
        list: async () => {
          const list = await this.call(`list ${what}`, () => this.objects.listAsSent(path));
          return { resourceVersion: list.metadata?.resourceVersion ?? "", items: list.items ?? [] };
        },
        open: (resourceVersion, onWatchEvent, onClose) =>
          this.openWatch(`watch ${what}`, path, { resourceVersion, timeoutSeconds: opts.timeoutSeconds }, signal, {
            onWatchEvent,
            onClose,
          }),
      },
      onEvent,
      signal,
    ).start();
  }

  /** Asks for deletion (does not wait); throws if the object does not exist. */
  async delete(kind: Kind, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<void> {
    await this.deleteObject(header(kind, name, namespace), opts);
  }

  /** Asks for deletion (does not wait); false if the object did not exist. */
  async deleteIfExists(kind: Kind, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<boolean> {
    return this.deleteObjectIfExists(header(kind, name, namespace), opts);
  }

  /** deleteIfExists for a manifest of any kind (a driver's objects). */
  async deleteObjectIfExists(manifest: Manifest, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.deleteObject(manifest, opts);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Deletes the object and drops its finalizers so it goes at once: for cleanup after a case,
   * when nothing may keep it (a bound PV keeps its protection finalizer while its claim exists).
   */
  async deleteDroppingFinalizers(kind: Kind, name: string, namespace?: string): Promise<void> {
    if (!(await this.deleteIfExists(kind, name, namespace))) return;
    try {
      await this.mergePatch(kind, name, namespace, { metadata: { finalizers: null } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** JSON merge patch (RFC 7386): `null` removes a field, lists are replaced whole. */
  async mergePatch<K extends Kind>(
    kind: K,
    name: string,
    namespace: string | undefined,
    patch: object,
  ): Promise<Model<K>> {
    return this.call(`merge-patch ${kind} ${ref(name, namespace)}`, () =>
      this.objects.patchAsIs<Model<K>>(header(kind, name, namespace), k8s.PatchStrategy.MergePatch, patch),
    );
  }

  /** JSON patch (RFC 6902). */
  async jsonPatch<K extends Kind>(
    kind: K,
    name: string,
    namespace: string | undefined,
    ops: readonly JsonPatchOp[],
  ): Promise<Model<K>> {
    return this.call(`json-patch ${kind} ${ref(name, namespace)}`, () =>
      this.objects.patchAsIs<Model<K>>(header(kind, name, namespace), k8s.PatchStrategy.JsonPatch, ops),
    );
  }

  /** For logs and drain only; everything else goes through the API. */
  kubectl(
    args: readonly string[],
    opts: { timeoutMs?: number; input?: string; nothrow?: boolean } = {},
  ): Promise<ExecResult> {
    return exec(this.kubectlPath, ["--kubeconfig", this.kubeconfigPath, ...args], {
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.nothrow ? { nothrow: true } : {}),
    });
  }

  /**
   * Runs a command in a pod's container and returns its stdout. A command that ran and failed is a
   * PodCommandFailed (a DriverDefect: the volume did not let the workload do what it must); not
   * reaching the container is a PodUnreachable (infrastructure).
   */
  async execInPod(namespace: string, pod: string, command: readonly string[], container?: string): Promise<string> {
    const r = await this.runInPod(namespace, pod, command, { ...(container ? { container } : {}) });
    if (r.exitCode !== 0) throw new PodCommandFailed(`${namespace}/${pod}`, command, r.exitCode, r.stdout, r.stderr);
    return r.stdout;
  }

  /** Like execInPod, but a command that ran and failed is returned (for checks that expect a failure). */
  async runInPod(
    namespace: string,
    pod: string,
    command: readonly string[],
    opts: { container?: string; timeoutMs?: number } = {},
  ): Promise<PodCommandResult> {
    const run = async (container: string | undefined) =>
      podExec(await this.execTarget(namespace, pod), namespace, pod, container, command, {
        timeoutMs: opts.timeoutMs ?? 120_000,
        ...(effectiveSignal() ? { signal: effectiveSignal() } : {}),
      });
    const started = Date.now();
    let r = await run(opts.container);
    // kubectl's default for a pod of several containers: the annotated one, else the first.
    if (!r.ran && !opts.container && /a container name must be specified/.test(r.why))
      r = await run(defaultContainer(await this.read("Pod", pod, namespace)));
    tallyCommand(started, r.ran ? r.exitCode : "unreachable", "pod-exec", [`${namespace}/${pod}`, ...command]);
    if (r.ran) return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    throw new PodUnreachable(
      `exec into pod ${namespace}/${pod}${opts.container ? ` (container ${opts.container})` : ""} failed: ${r.why}` +
        (r.stderr.trim() ? `\n${lastLines(r.stderr, 5)}` : ""),
    );
  }

  /**
   * Where exec connects, with the kubeconfig's TLS options and credentials, asked for each exec as
   * the library does for each request: a token from an exec plugin or a file expires, and its
   * authenticator caches and renews it. Credentials that cannot be had are infrastructure.
   */
  private async execTarget(namespace: string, pod: string): Promise<PodExecTarget> {
    const options: PodExecTarget["options"] = {};
    try {
      await this.kc.applyToHTTPSOptions(options as Parameters<k8s.KubeConfig["applyToHTTPSOptions"]>[0]);
    } catch (err) {
      throw new PodUnreachable(
        `exec into pod ${namespace}/${pod}: no credentials from the kubeconfig: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return { server: this.kc.getCurrentCluster()?.server ?? "", options };
  }

  private async deleteObject(m: Manifest, opts: DeleteOptions): Promise<void> {
    await this.call(`delete ${m.kind} ${ref(m.metadata?.name ?? "?", m.metadata?.namespace)}`, () =>
      this.objects.delete(
        structuredClone(m),
        undefined,
        undefined,
        opts.gracePeriodSeconds,
        undefined,
        opts.propagationPolicy,
      ),
    );
  }

  /**
   * Opens one watch request with the library's Watch. Its own connect timeout is not in effect
   * (1.4.0 overwrites the signal that carries it), so waiting for the server's answer is bounded
   * here by the request timeout and the signal. The library reports a refused watch (non-200) the
   * same way as a later end, through its done callback, but always before its promise resolves.
   */
  private async openWatch(
    name: string,
    path: string,
    query: { resourceVersion: string; timeoutSeconds: number },
    signal: AbortSignal | undefined,
    handlers: { onWatchEvent: (type: string, object: WireObject) => void; onClose: (err: unknown) => void },
  ): Promise<() => void> {
    signal?.throwIfAborted();
    let open = false;
    let endedEarly: { err: unknown } | undefined;
    const pending = new k8s.Watch(this.kc).watch(
      path,
      query,
      (type: string, object: WireObject) => handlers.onWatchEvent(type, object),
      (err: unknown) => {
        if (open) handlers.onClose(err);
        else endedEarly = { err };
      },
    );
    const limit = AbortSignal.timeout(this.requestTimeoutMs);
    let controller: AbortController;
    try {
      controller = await untilAborted(pending, signal ? AbortSignal.any([limit, signal]) : limit);
    } catch (err) {
      void pending.then((c) => c.abort()).catch(() => undefined);
      signal?.throwIfAborted();
      if (limit.aborted) throw new ApiRequestTimeout(`${name} (GET ${path})`, this.requestTimeoutMs, err);
      throw err;
    }
    if (endedEarly) {
      const err = endedEarly.err as { statusCode?: unknown; message?: unknown } | null;
      const text = typeof err?.message === "string" ? err.message : String(err ?? "closed at once");
      if (typeof err?.statusCode === "number")
        throw new ApiError(name, { code: err.statusCode, reason: text }, undefined, endedEarly.err);
      throw new InfraError(`${name}: could not be opened: ${text}`, { cause: endedEarly.err });
    }
    open = true;
    return () => controller.abort();
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toApiError(err, what);
    }
  }
}

/** The promise's value, or the signal's reason if it aborts first. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function ref(name: string, namespace: string | undefined): string {
  return namespace ? `${namespace}/${name}` : name;
}

function header(kind: Kind, name: string, namespace: string | undefined) {
  return { apiVersion: API_VERSION[kind], kind, metadata: { name, ...(namespace ? { namespace } : {}) } };
}

/**
 * The HTTP transport of every client: the library's fetch with a signal that fires after the
 * request timeout or when the current case is aborted. It is the transport and not a middleware
 * that sets the signal because per-call options replace the middleware list by default (the
 * transport stays), and because the same place must tell a timeout (InfraError naming the
 * request and the limit) from a case abort (the abort's own reason), including while the body
 * is being read.
 */
class BoundedFetch implements k8s.PromiseHttpLibrary {
  private readonly fetch = new k8s.IsomorphicFetchHttpLibrary();

  constructor(private readonly timeoutMs: number) {}

  async send(request: k8s.RequestContext): Promise<k8s.ResponseContext> {
    const caseSignal = currentSignal();
    caseSignal?.throwIfAborted();
    const limit = AbortSignal.timeout(this.timeoutMs);
    request.setSignal(caseSignal ? AbortSignal.any([limit, caseSignal]) : limit);
    const url = new URL(request.getUrl());
    const name = `${request.getHttpMethod()} ${url.pathname}${url.search}`;
    const fail = (err: unknown): never => {
      caseSignal?.throwIfAborted();
      if (limit.aborted) throw new ApiRequestTimeout(name, this.timeoutMs, err);
      throw err;
    };
    const started = Date.now();
    try {
      const res = await this.fetch.send(request).toPromise();
      tallyRequest(started, request.getHttpMethod(), url, res.httpStatusCode);
      const body = res.body;
      return new k8s.ResponseContext(res.httpStatusCode, res.headers, {
        text: () => body.text().catch(fail),
        binary: () => body.binary().catch(fail),
      });
    } catch (err) {
      tallyRequest(started, request.getHttpMethod(), url, null);
      return fail(err);
    }
  }
}

/**
 * The library's generic object client (paths found by discovery), with a PATCH that sends the
 * body as given: the library's own patch() re-serialises the object through its model classes,
 * which silently drops any field they do not know (a driver's manifest may be newer than the
 * library), and cannot send a JSON patch at all.
 */
class ObjectApi extends k8s.KubernetesObjectApi {
  constructor(config: k8s.Configuration, kc: k8s.KubeConfig) {
    super(config);
    this.setDefaultNamespace(kc);
  }

  /** The path of a kind's collection (`/api/v1/namespaces/ns/pods`), found by discovery. */
  collectionPath(apiVersion: string, kind: string, namespace: string | undefined): Promise<string> {
    return this.specUriPath({ apiVersion, kind, metadata: namespace ? { namespace } : {} }, "list");
  }

  /**
   * A list whose items stay as the API server sent them (timestamps as strings, as in watch
   * events): type "any" keeps the library's serializer off the items.
   */
  async listAsSent(path: string): Promise<{ metadata?: { resourceVersion?: string }; items?: WireObject[] }> {
    const request = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.GET);
    request.setHeaderParam("Accept", "application/json");
    return this.requestPromise(request, "any");
  }

  async patchAsIs<T extends k8s.KubernetesObject>(
    target: k8s.KubernetesObject,
    contentType: string,
    body: unknown,
    query: Record<string, string> = {},
  ): Promise<T> {
    const path = await this.specUriPath(structuredClone(target), "patch");
    const request = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.PATCH);
    request.setHeaderParam("Accept", "application/json");
    request.setHeaderParam("Content-Type", contentType);
    for (const [k, v] of Object.entries(query)) request.setQueryParam(k, v);
    request.setBody(JSON.stringify(body));
    return this.requestPromise<T>(request);
  }
}

/**
 * A generated client whose ApiException messages say which call failed and what the server
 * answered in one line (see toApiError), instead of the library's four-line dump.
 */
function withReadableErrors<T extends object>(api: T): T {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const member: unknown = Reflect.get(target, prop, receiver);
      if (typeof member !== "function" || typeof prop !== "string") return member;
      return (...args: unknown[]) => {
        const out: unknown = (member as (...a: unknown[]) => unknown).apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.catch((err: unknown) => {
          throw toApiError(err, callName(prop, args[0]));
        });
      };
    },
  });
}

function callName(method: string, param: unknown): string {
  const p = (typeof param === "object" && param !== null ? param : {}) as { name?: unknown; namespace?: unknown };
  const target = [p.namespace, p.name].filter((x) => typeof x === "string").join("/");
  return target ? `${method} ${target}` : method;
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** "phase Pending; Unschedulable: 0/3 nodes are available..." — what a wait reports on timeout. */
export function describePod(pod: V1Pod): string {
  const parts = [`phase ${pod.status?.phase ?? "unknown"}`];
  for (const c of pod.status?.conditions ?? [])
    if (c.status !== "True" && c.reason) parts.push(`${c.type}=${c.reason}: ${c.message ?? ""}`);
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w) parts.push(`${cs.name} waiting: ${w.reason ?? ""} ${w.message ?? ""}`.trim());
    const t = cs.state?.terminated;
    if (t) parts.push(`${cs.name} terminated: ${t.reason ?? ""} (exit ${t.exitCode})`);
  }
  return parts.join("; ");
}

/** The container kubectl picks when none is named: the annotated default, else the first. */
function defaultContainer(pod: k8s.V1Pod): string | undefined {
  return pod.metadata?.annotations?.["kubectl.kubernetes.io/default-container"] ?? pod.spec?.containers[0]?.name;
}

/**
 * Each API request in the run's command tally (exec.ts), as `api <VERB> <resource>`: how many
 * round trips a run makes to the API server and of which kind (`.ci/spawn-tally.mjs`). Watches
 * are the library's own requests and are not counted.
 */
function tallyRequest(started: number, method: string, url: URL, status: number | null): void {
  tallyCommand(started, status ?? "no answer", "api", [requestKind(method, url)]);
}

/** `GET pods`, `LIST persistentvolumeclaims`, `PATCH nodes/status`... from a request's method and path. */
export function requestKind(method: string, url: URL): string {
  const parts = url.pathname.split("/").filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...
  if (parts[0] !== "api" && parts[0] !== "apis") return `${method} ${url.pathname}`;
  const rest = parts.slice(parts[0] === "api" ? 2 : 3);
  const scoped = rest[0] === "namespaces" && rest.length > 2 ? rest.slice(2) : rest;
  const [resource, name, sub] = scoped;
  if (!resource) return `${method} ${url.pathname}`;
  const verb = method === "GET" && name === undefined ? "LIST" : method;
  return `${verb} ${resource}${sub ? `/${sub}` : ""}`;
}
