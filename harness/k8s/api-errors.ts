/**
 * What a failed API request means. client-node 1.4.0 throws an ApiException carrying the HTTP
 * `code` and the raw response `body` (the API server's Status object, as JSON text). Exactly one
 * answer means "the object is gone": 404 with a Status whose reason is NotFound. A 5xx, a refused
 * connection or a timeout says nothing about the object, so waits retry it instead of taking it
 * for "deleted". Duck-typed on purpose: kube.ts stays the only importer of the library.
 */
import { DriverDefect, InfraError } from "../core/errors.ts";

/** The Status the API server answered with (https://kubernetes.io/docs/reference/using-api/api-concepts/#response-status-kind). */
export interface ApiStatus {
  code: number;
  reason?: string;
  message?: string;
}

/** The API server's answer carried by an ApiException, or undefined for any other error. */
export function apiStatus(err: unknown): ApiStatus | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { code, body } = err as { code?: unknown; body?: unknown };
  if (typeof code !== "number" || code < 100 || code > 599) return undefined;
  const status = parseStatus(body);
  return {
    code,
    ...(typeof status?.reason === "string" ? { reason: status.reason } : {}),
    ...(typeof status?.message === "string" ? { message: status.message } : {}),
  };
}

function parseStatus(body: unknown): { reason?: unknown; message?: unknown } | undefined {
  if (typeof body === "object" && body !== null) return body as { reason?: unknown; message?: unknown };
  if (typeof body !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? (parsed as { reason?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one meaning of "gone": the API server answered 404 NotFound for the object. A 404 without
 * a NotFound Status (a path the server does not serve, "404 page not found") is not "gone".
 */
export function isNotFound(err: unknown): boolean {
  const s = apiStatus(err);
  return s?.code === 404 && s.reason === "NotFound";
}

/** `HTTP 404 NotFound: pods "x" not found` */
export function describeStatus(s: ApiStatus): string {
  return `HTTP ${s.code}${s.reason ? ` ${s.reason}` : ""}${s.message ? `: ${s.message}` : ""}`;
}

/**
 * The API server answered with an error status. Infrastructure, like a failed kubectl was: the
 * API layer cannot tell whose fault it is, and it is never the driver's by itself (a check that
 * expects an object to exist says so with its own assertion). Keeps `code` and `body`, so
 * isNotFound works on it as on the library's ApiException.
 */
export class ApiError extends InfraError {
  readonly code: number;
  readonly reason: string | undefined;
  readonly body: unknown;
  constructor(call: string, status: ApiStatus, body: unknown, cause: unknown) {
    super(`${call}: ${describeStatus(status)}`, { cause });
    this.code = status.code;
    this.reason = status.reason;
    this.body = body;
  }
}

/**
 * An ApiException (whose message is four lines: code, "Unknown API Status Code!", the body as an
 * escaped string, the headers) as an ApiError with one line naming the call and what the server
 * answered, so waits and reports can show it. Other errors pass unchanged.
 */
export function toApiError(err: unknown, call: string): unknown {
  if (err instanceof ApiError) return err;
  const s = apiStatus(err);
  return s ? new ApiError(call, s, (err as { body?: unknown }).body, err) : err;
}

/** An API request got no answer within its limit: the API server (or the way to it) is the problem. */
export class ApiRequestTimeout extends InfraError {
  constructor(
    readonly request: string,
    readonly limitMs: number,
    cause?: unknown,
  ) {
    super(
      `Kubernetes API request ${request}: no answer within ${limitMs / 1000}s (request timeout)`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** A command run in a pod's container ran and failed: what the volume let it do is the driver's. */
export class PodCommandFailed extends DriverDefect {
  constructor(
    readonly pod: string,
    readonly command: readonly string[],
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split("\n").slice(-5).join("\n");
    super(`command in pod ${pod} exited ${exitCode}: ${command.join(" ")}${tail ? `\n${tail}` : ""}`);
  }
}

/** The command could not be run in the pod at all (pod or container gone, kubelet unreachable). */
export class PodUnreachable extends InfraError {}
