import { describe, expect, test } from "vitest";
import { InfraError } from "../core/errors.ts";
import { ApiError, apiStatus, isNotFound, toApiError } from "./api-errors.ts";

/** The API server's real 404 body for a claim that does not exist. */
const PVC_NOT_FOUND =
  '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"persistentvolumeclaims \\"x\\" not found","reason":"NotFound","details":{"name":"x","kind":"persistentvolumeclaims"},"code":404}';

/** How client-node 1.4.0 throws a non-2xx answer: ApiException with code, the body as text, headers. */
const apiException = (code: number, body: unknown) =>
  Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}`), {
    code,
    body,
    headers: { "content-type": "application/json" },
  });

describe("isNotFound", () => {
  test("a 404 NotFound Status is gone, as text or as an object", () => {
    expect(isNotFound(apiException(404, PVC_NOT_FOUND))).toBe(true);
    expect(isNotFound(apiException(404, JSON.parse(PVC_NOT_FOUND)))).toBe(true);
  });

  test("nothing else is gone", () => {
    expect(isNotFound(apiException(404, "404 page not found\n"))).toBe(false); // a path the server does not serve
    expect(isNotFound(apiException(404, undefined))).toBe(false);
    expect(
      isNotFound(apiException(500, '{"kind":"Status","message":"etcdserver: request timed out","code":500}')),
    ).toBe(false);
    expect(isNotFound(apiException(409, '{"kind":"Status","reason":"AlreadyExists","code":409}'))).toBe(false);
    expect(isNotFound(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" }))).toBe(
      false,
    );
    expect(isNotFound(new InfraError("request timeout"))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
    expect(isNotFound("404")).toBe(false);
  });

  test("apiStatus, and the ApiError with its one-line message (infrastructure, still not-found)", () => {
    expect(apiStatus(apiException(404, PVC_NOT_FOUND))).toEqual({
      code: 404,
      reason: "NotFound",
      message: 'persistentvolumeclaims "x" not found',
    });
    const err = toApiError(apiException(404, PVC_NOT_FOUND), "read PersistentVolumeClaim ns/x");
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(InfraError);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toBe(
      'read PersistentVolumeClaim ns/x: HTTP 404 NotFound: persistentvolumeclaims "x" not found',
    );
    expect(toApiError(err, "again")).toBe(err);
    const other = new Error("boom");
    expect(toApiError(other, "call")).toBe(other);
    expect(other.message).toBe("boom");
  });
});
