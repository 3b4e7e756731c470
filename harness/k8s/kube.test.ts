import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer } from "ws";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withSignal } from "../core/abort.ts";
import { DriverDefect, InfraError } from "../core/errors.ts";
import { waitFor } from "../core/wait.ts";
import { ApiRequestTimeout, isNotFound, PodCommandFailed, PodUnreachable } from "./api-errors.ts";
import { claimPhase, gone } from "./conditions.ts";
import { Kube, requestKind } from "./kube.ts";
import { addTaint, removeTaint } from "./taints.ts";

/** The API server's real answer to GET of a claim that does not exist. */
const PVC_NOT_FOUND = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: 'persistentvolumeclaims "x" not found',
  reason: "NotFound",
  details: { name: "x", kind: "persistentvolumeclaims" },
  code: 404,
});

/** Discovery for the core group, as much of it as the generic calls need. */
const CORE_RESOURCES = JSON.stringify({
  kind: "APIResourceList",
  groupVersion: "v1",
  resources: [
    { name: "persistentvolumeclaims", singularName: "", namespaced: true, kind: "PersistentVolumeClaim", verbs: [] },
    { name: "persistentvolumes", singularName: "", namespaced: false, kind: "PersistentVolume", verbs: [] },
    { name: "nodes", singularName: "", namespaced: false, kind: "Node", verbs: [] },
    { name: "pods", singularName: "", namespaced: true, kind: "Pod", verbs: [] },
  ],
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let dir: string;
let handler: Handler = () => undefined;
/** What answers an exec (WebSocket upgrade) request. */
let upgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void = (_r, socket) => socket.destroy();
const wss = new WebSocketServer({ noServer: true });
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push(`${req.method} ${req.url}`);
    upgrade(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  dir = mkdtempSync(join(tmpdir(), "volcert-kube-test-"));
  const { port } = server.address() as AddressInfo;
  writeFileSync(
    join(dir, "kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true }`,
      "  name: local",
      "contexts:",
      "- context: { cluster: local, user: nobody }",
      "  name: local",
      "current-context: local",
      "users:",
      "- name: nobody",
      "  user: {}",
    ].join("\n"),
  );
});

afterAll(async () => {
  wss.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const kube = (requestTimeoutMs = 2000) => new Kube(join(dir, "kubeconfig"), "kubectl", { requestTimeoutMs });

const json = (res: ServerResponse, code: number, body: string) => {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(body);
};

/** Serves core discovery, and `object` for everything else. */
const api =
  (object: (res: ServerResponse) => void): Handler =>
  (req, res) =>
    req.url === "/api/v1" ? json(res, 200, CORE_RESOURCES) : object(res);

describe("not found", () => {
  test("a real 404 Status is not-found, through the typed and the generic calls, with a one-line message", async () => {
    handler = api((res) => json(res, 404, PVC_NOT_FOUND));
    const k = kube();
    const typed = await k.core
      .readNamespacedPersistentVolumeClaim({ namespace: "ns", name: "x" })
      .catch((e: unknown) => e);
    expect(isNotFound(typed)).toBe(true);
    expect(typed).toBeInstanceOf(InfraError);
    expect((typed as Error).message).toBe(
      'readNamespacedPersistentVolumeClaim ns/x: HTTP 404 NotFound: persistentvolumeclaims "x" not found',
    );
    const generic = await k.read("PersistentVolumeClaim", "x", "ns").catch((e: unknown) => e);
    expect(isNotFound(generic)).toBe(true);
    expect((generic as Error).message).toMatch(/^read PersistentVolumeClaim ns\/x: HTTP 404 NotFound: /);
    expect(await k.readIfExists("PersistentVolumeClaim", "x", "ns")).toBeUndefined();
    expect(await k.deleteIfExists("PersistentVolume", "x")).toBe(false);
    expect(seen).toContain("DELETE /api/v1/persistentvolumes/x");
    await expect(
      waitFor("x gone", gone(k, "PersistentVolumeClaim", "x", "ns"), { timeoutMs: 1000, blame: "driver" }),
    ).resolves.toBeUndefined();
  });

  test("a 5xx is not gone: readIfExists throws and a gone wait keeps waiting, then blames infrastructure", async () => {
    handler = api((res) =>
      json(
        res,
        500,
        JSON.stringify({ kind: "Status", status: "Failure", message: "etcdserver: leader changed", code: 500 }),
      ),
    );
    const k = kube();
    await expect(k.readIfExists("PersistentVolumeClaim", "x", "ns")).rejects.toThrow(/HTTP 500: etcdserver/);
    const err = await waitFor("x gone", gone(k, "PersistentVolumeClaim", "x", "ns"), {
      timeoutMs: 300,
      intervalMs: 50,
      blame: "driver",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/probe failed: read PersistentVolumeClaim ns\/x: HTTP 500/);
  });

  test("an object that is still there is described, not gone", async () => {
    handler = api((res) =>
      json(
        res,
        200,
        JSON.stringify({
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: {
            name: "x",
            deletionTimestamp: "2025-01-01T00:00:00Z",
            finalizers: ["kubernetes.io/pv-protection"],
          },
          status: { phase: "Bound" },
        }),
      ),
    );
    const o = await gone(kube(), "PersistentVolume", "x")();
    expect(o).toEqual({
      done: false,
      seen: "still there (Terminating since 2025-01-01T00:00:00.000Z; finalizers kubernetes.io/pv-protection); phase Bound",
    });
  });
});

describe("writes", () => {
  const capture = () => {
    const requests: { url: string; type: string; body: string }[] = [];
    handler = api((res) =>
      json(res, 200, '{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c"}}'),
    );
    const inner = handler;
    handler = (req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        if (req.url !== "/api/v1") requests.push({ url: req.url ?? "", type: req.headers["content-type"] ?? "", body });
        inner(req, res);
      });
    };
    return requests;
  };

  test("apply is a server-side apply by volcert, forced, with the manifest sent exactly as given", async () => {
    const requests = capture();
    const manifest = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "c" },
      spec: { storageClassName: "sc", fieldNewerThanTheLibrary: { x: 1 } },
    };
    await kube().apply(manifest, "ns");
    expect(requests).toEqual([
      {
        url: "/api/v1/namespaces/ns/persistentvolumeclaims/c?fieldManager=volcert&force=true",
        type: "application/apply-patch+yaml",
        body: JSON.stringify({ ...manifest, metadata: { name: "c", namespace: "ns" } }),
      },
    ]);
    expect(manifest.metadata).toEqual({ name: "c" });
  });

  test("merge and JSON patches go as they are", async () => {
    const requests = capture();
    await kube().mergePatch("PersistentVolume", "pv", undefined, { metadata: { finalizers: null } });
    await kube().jsonPatch("PersistentVolume", "pv", undefined, [{ op: "remove", path: "/spec/claimRef" }]);
    expect(requests).toEqual([
      {
        url: "/api/v1/persistentvolumes/pv",
        type: "application/merge-patch+json",
        body: '{"metadata":{"finalizers":null}}',
      },
      {
        url: "/api/v1/persistentvolumes/pv",
        type: "application/json-patch+json",
        body: '[{"op":"remove","path":"/spec/claimRef"}]',
      },
    ]);
  });
});

describe("request timeout", () => {
  test("a request the server never answers is aborted at the limit, as infrastructure naming the request", async () => {
    handler = () => undefined; // accept the connection, never answer
    const started = Date.now();
    const err = await kube(300)
      .core.readNamespacedPod({ namespace: "ns", name: "p" })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(ApiRequestTimeout);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toBe(
      "Kubernetes API request GET /api/v1/namespaces/ns/pods/p: no answer within 0.3s (request timeout)",
    );
    expect(isNotFound(err)).toBe(false);
  });

  test("a body that stops half-way is a timeout too", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"kind":"Pod",');
    };
    const err = await kube(300)
      .core.readNamespacedPod({ namespace: "ns", name: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiRequestTimeout);
  });

  test("the generic calls are bounded as well", async () => {
    handler = () => undefined;
    await expect(kube(300).read("PersistentVolume", "x")).rejects.toBeInstanceOf(ApiRequestTimeout);
  });

  test("the case's abort ends a request with the abort's reason, not a timeout", async () => {
    handler = () => undefined;
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("case timed out")), 100);
    const err = await withSignal(ac.signal, () => kube(10_000).core.listNode()).catch((e: unknown) => e);
    expect((err as Error).message).toBe("case timed out");
  });
});

describe("exec into pods", () => {
  /** The recorded final Status frames: `true`, `sh -c 'exit 7'`, a binary that does not exist. */
  const [success, exit7, noBinary] = readFileSync(
    new URL("../../fixtures/recorded/pod-exec-status-v5.jsonl", import.meta.url),
    "utf8",
  )
    .trim()
    .split("\n");
  /** Answers the exec upgrade as the API server does: stdout and stderr frames, then the Status. */
  const answering = (stdout: string, stderr: string, status: string) => {
    upgrade = (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        const frame = (channel: number, text: string) => Buffer.concat([Buffer.from([channel]), Buffer.from(text)]);
        ws.send(frame(1, stdout));
        ws.send(frame(2, stderr));
        ws.send(frame(3, status));
        ws.close();
      });
  };

  test("a command that ran and failed in the container is the driver's", async () => {
    answering("out\n", "sh: can't create /data/x: Read-only file system\n", exit7!);
    const k = kube();
    const err = await k.execInPod("ns", "p", ["sh", "-c", "echo x > /data/x"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodCommandFailed);
    expect(err).toBeInstanceOf(DriverDefect);
    expect((err as PodCommandFailed).exitCode).toBe(7);
    const r = await k.runInPod("ns", "p", ["sh", "-c", "echo x > /data/x"], { container: "app" });
    expect(r).toEqual({ exitCode: 7, stdout: "out\n", stderr: "sh: can't create /data/x: Read-only file system\n" });
    expect(seen.at(-1)).toBe(
      "GET /api/v1/namespaces/ns/pods/p/exec?stdout=true&stderr=true&stdin=false&tty=false&container=app&command=sh&command=-c&command=echo+x+%3E+%2Fdata%2Fx",
    );
    answering("fine\n", "", success!);
    expect(await k.execInPod("ns", "p", ["true"])).toBe("fine\n");
  });

  test("not reaching the pod, or a command that could not start, is infrastructure", async () => {
    upgrade = (_req, socket) => {
      const body =
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"p\\" not found","reason":"NotFound","details":{"name":"p","kind":"pods"},"code":404}';
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    };
    const k = kube();
    const err = await k.execInPod("ns", "p", ["true"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodUnreachable);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toBe('exec into pod ns/p failed: HTTP 404: pods "p" not found');
    answering("", "", noBinary!);
    await expect(k.runInPod("ns", "p", ["/no/such/binary"])).rejects.toThrow(
      /^exec into pod ns\/p failed: Internal error occurred: .*no such file or directory/,
    );
    // The connection dropped before the exit status: never a result.
    upgrade = (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.terminate());
    await expect(k.runInPod("ns", "p", ["true"])).rejects.toThrow(/closed before the command's exit status/);
  });

  test("an exec that never ends is bounded; the case's abort ends it with the abort's reason", async () => {
    upgrade = (req, socket, head) => wss.handleUpgrade(req, socket, head, () => undefined);
    const k = kube();
    await expect(k.runInPod("ns", "p", ["sleep", "60"], { timeoutMs: 300 })).rejects.toThrow(
      /^exec into pod ns\/p failed: no exit status within 0s$/,
    );
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("case budget spent")), 100);
    const err = await withSignal(ac.signal, () => k.runInPod("ns", "p", ["sleep", "60"])).catch((e: unknown) => e);
    expect((err as Error).message).toBe("case budget spent");
  });

  test("no container named and several in the pod: the annotated default, else the first, as kubectl", async () => {
    upgrade = (req, socket, head) => {
      if (!req.url?.includes("container=")) {
        const body = JSON.stringify({
          kind: "Status",
          status: "Failure",
          message: "a container name must be specified for pod p, choose one of: [a b]",
          reason: "BadRequest",
          code: 400,
        });
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        return;
      }
      // Answers with the container it was asked for, as its stdout.
      wss.handleUpgrade(req, socket, head, (ws) => {
        const container = new URL(req.url ?? "", "http://x").searchParams.get("container") ?? "";
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(container)]));
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(success!)]));
        ws.close();
      });
    };
    const pod = (annotations: Record<string, string>) =>
      api((res) =>
        json(
          res,
          200,
          JSON.stringify({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "p", namespace: "ns", annotations },
            spec: { containers: [{ name: "a" }, { name: "b" }] },
          }),
        ),
      );
    handler = pod({});
    expect(await kube().execInPod("ns", "p", ["true"])).toBe("a");
    handler = pod({ "kubectl.kubernetes.io/default-container": "b" });
    expect(await kube().execInPod("ns", "p", ["true"])).toBe("b");
  });
});

describe("conditions", () => {
  test("a claim not in the phase yet is described with its latest event (events sorted by time)", async () => {
    const event = (reason: string, message: string, last: string | null, eventTime?: string) => ({
      metadata: { name: reason, namespace: "ns" },
      involvedObject: { kind: "PersistentVolumeClaim", name: "data" },
      reason,
      message,
      lastTimestamp: last,
      ...(eventTime ? { eventTime } : {}),
    });
    handler = (req, res) => {
      if (req.url === "/api/v1") return json(res, 200, CORE_RESOURCES);
      if (req.url?.startsWith("/api/v1/namespaces/ns/events")) {
        expect(new URL(req.url, "http://x").searchParams.get("fieldSelector")).toBe(
          "involvedObject.kind=PersistentVolumeClaim,involvedObject.name=data",
        );
        return json(
          res,
          200,
          JSON.stringify({
            kind: "EventList",
            apiVersion: "v1",
            items: [
              event("ProvisioningFailed", "rpc error: no space", "2025-01-01T00:00:05Z"),
              event("Provisioning", "External provisioner is provisioning volume", "2025-01-01T00:00:01Z"),
              event("ExternalProvisioning", "Waiting for a volume", null, "2025-01-01T00:00:03.000000Z"),
            ],
          }),
        );
      }
      // No volume names the claim (binding-stall.ts looks).
      if (req.url?.startsWith("/api/v1/persistentvolumes"))
        return json(res, 200, JSON.stringify({ kind: "PersistentVolumeList", apiVersion: "v1", items: [] }));
      json(
        res,
        200,
        JSON.stringify({
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "data", namespace: "ns" },
          spec: {},
          status: { phase: "Pending" },
        }),
      );
    };
    const o = await claimPhase(kube(), "ns", "data", "Bound")();
    expect(o.done).toBe(false);
    expect(o.seen).toBe("phase Pending");
    expect(await o.explain?.()).toEqual({ seen: "phase Pending; last event ProvisioningFailed: rpc error: no space" });
  });
});

describe("taints", () => {
  test("a taint is written against the version read; a conflicting write is retried, others' taints kept", async () => {
    let version = 1;
    const patches: unknown[] = [];
    handler = (req, res) => {
      if (req.url === "/api/v1") return json(res, 200, CORE_RESOURCES);
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const node = (taints: unknown[]) =>
          JSON.stringify({
            apiVersion: "v1",
            kind: "Node",
            metadata: { name: "w1", resourceVersion: String(version) },
            spec: { taints },
          });
        const theirs = [
          { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2025-01-01T00:00:00Z" },
        ];
        if (req.method === "GET") return json(res, 200, node(version === 1 ? [] : theirs));
        patches.push(JSON.parse(body));
        if (version++ === 1) return json(res, 409, JSON.stringify({ kind: "Status", reason: "Conflict", code: 409 }));
        json(res, 200, node(theirs));
      });
    };
    await addTaint(kube(), "w1", {
      key: "node.kubernetes.io/out-of-service",
      value: "nodeshutdown",
      effect: "NoExecute",
    });
    expect(patches).toHaveLength(2);
    const last = patches[1] as { metadata: { resourceVersion: string }; spec: { taints: { key: string }[] } };
    expect(last.metadata.resourceVersion).toBe("2");
    expect(last.spec.taints.map((t) => t.key)).toEqual([
      "node.kubernetes.io/unreachable",
      "node.kubernetes.io/out-of-service",
    ]);
  });

  test("removing a taint that is not there, or from a node that is gone, is nothing to do", async () => {
    handler = api((res) =>
      json(res, 200, JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "w1" }, spec: {} })),
    );
    expect(await removeTaint(kube(), "w1", "node.kubernetes.io/out-of-service")).toBe(false);
    handler = api((res) =>
      json(
        res,
        404,
        JSON.stringify({ kind: "Status", reason: "NotFound", message: 'nodes "w1" not found', code: 404 }),
      ),
    );
    expect(await removeTaint(kube(), "w1", "node.kubernetes.io/out-of-service")).toBe(false);
  });
});

describe("the run's tally of API requests", () => {
  test("names each request by verb and resource, never by object or namespace", () => {
    const kind = (method: string, path: string) => requestKind(method, new URL(`https://h:6443${path}`));
    expect(kind("GET", "/api/v1/namespaces/vc-1/persistentvolumeclaims/data")).toBe("GET persistentvolumeclaims");
    expect(kind("GET", "/api/v1/namespaces/vc-1/pods?labelSelector=a%3Db")).toBe("LIST pods");
    expect(kind("GET", "/api/v1/persistentvolumes")).toBe("LIST persistentvolumes");
    expect(kind("PATCH", "/api/v1/nodes/w1/status")).toBe("PATCH nodes/status");
    expect(kind("DELETE", "/api/v1/namespaces/vc-1")).toBe("DELETE namespaces");
    expect(kind("POST", "/apis/snapshot.storage.k8s.io/v1/namespaces/vc-1/volumesnapshots")).toBe(
      "POST volumesnapshots",
    );
    expect(kind("GET", "/version")).toBe("GET /version");
    expect(kind("GET", "/api/v1")).toBe("GET /api/v1");
  });
});
