/**
 * A command in a pod's container through the API server's `exec` subresource: a WebSocket
 * speaking channel.k8s.io v5 or v4 (one byte of channel, then data: 1 stdout, 2 stderr, 3 the
 * final metav1.Status that carries the exit code), what kubectl does, without a kubectl process
 * per command (about 40 ms of its own CPU each on the 2-core machine, and a run made ~500).
 * The only file that imports `ws`; kube.ts gives it the server and the kubeconfig's TLS options.
 */
import WebSocket from "ws";

export interface PodExecTarget {
  /** The API server's URL (https://...). */
  server: string;
  /** TLS and auth options from the kubeconfig (ca, cert, key, headers). */
  options: WebSocket.ClientOptions;
}

export type PodExecOutcome =
  | { ran: true; exitCode: number; stdout: string; stderr: string }
  | { ran: false; why: string; stdout: string; stderr: string };

/** Newest first; v4 is the first with the exit code in a Status. */
const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

export function execUrl(
  server: string,
  namespace: string,
  pod: string,
  container: string | undefined,
  command: readonly string[],
): string {
  const q = new URLSearchParams({ stdout: "true", stderr: "true", stdin: "false", tty: "false" });
  if (container) q.set("container", container);
  for (const word of command) q.append("command", word);
  const base = server.replace(/^http/, "ws").replace(/\/+$/, "");
  return `${base}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q}`;
}

interface StatusView {
  status?: string;
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The exit code a final Status carries, or why the command did not run (any other Failure). */
export function statusOutcome(status: StatusView): { exitCode: number } | { why: string } {
  if (status.status === "Success") return { exitCode: 0 };
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (status.reason === "NonZeroExitCode" && cause?.message !== undefined && /^\d+$/.test(cause.message))
    return { exitCode: Number(cause.message) };
  return { why: status.message || status.reason || JSON.stringify(status) };
}

/**
 * Runs the command and resolves with what it did, or with why it could not run it (the pod,
 * container or kubelet unreachable, no exit status by the timeout). An aborted signal closes the
 * connection and rejects with the abort reason.
 */
export function podExec(
  target: PodExecTarget,
  namespace: string,
  pod: string,
  container: string | undefined,
  command: readonly string[],
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<PodExecOutcome> {
  opts.signal?.throwIfAborted();
  return new Promise<PodExecOutcome>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let status: Buffer | undefined;
    let settled = false;
    const text = (parts: Buffer[]) => Buffer.concat(parts).toString("utf8");
    const ws = new WebSocket(execUrl(target.server, namespace, pod, container, command), PROTOCOLS, target.options);
    const finish = (outcome: PodExecOutcome | { abort: unknown }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      if ("abort" in outcome) reject(outcome.abort);
      else resolve(outcome);
    };
    const failed = (why: string) => finish({ ran: false, why, stdout: text(out), stderr: text(err) });
    const onAbort = () => finish({ abort: opts.signal?.reason });
    const timer = setTimeout(
      () => failed(`no exit status within ${Math.round(opts.timeoutMs / 1000)}s`),
      opts.timeoutMs,
    );
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    ws.on("unexpected-response", (_req, res) => {
      const body: Buffer[] = [];
      res.on("data", (c: Buffer) => body.length < 64 && body.push(c));
      res.on("end", () => {
        let why = text(body).trim();
        try {
          why = (JSON.parse(why) as StatusView).message ?? why;
        } catch {
          // not a Status: the body as it is
        }
        failed(`HTTP ${res.statusCode ?? "?"}${why ? `: ${why}` : ""}`);
      });
      res.on("error", (e) => failed(e.message));
    });
    ws.on("error", (e) => failed(e.message));
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (buf.length === 0) return;
      const chunk = buf.subarray(1);
      if (buf[0] === STDOUT) out.push(chunk);
      else if (buf[0] === STDERR) err.push(chunk);
      else if (buf[0] === STATUS) status = status ? Buffer.concat([status, chunk]) : chunk;
      // 255 (v5: a stream closed) and anything else carry nothing to keep.
    });
    ws.on("close", () => {
      if (!status) return failed("the connection closed before the command's exit status arrived");
      let parsed: StatusView;
      try {
        parsed = JSON.parse(status.toString("utf8")) as StatusView;
      } catch {
        return failed(`unreadable exit status: ${status.toString("utf8").slice(0, 200)}`);
      }
      const outcome = statusOutcome(parsed);
      if ("exitCode" in outcome)
        finish({ ran: true, exitCode: outcome.exitCode, stdout: text(out), stderr: text(err) });
      else failed(outcome.why);
    });
  });
}
