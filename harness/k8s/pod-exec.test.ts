import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { execUrl, statusOutcome } from "./pod-exec.ts";

// The final Status frames (channel 3) a v1.34.10 API server sent for `true`, `sh -c 'exit 7'` and
// a binary that does not exist (recorded from a volcert kind cluster, exec id redacted).
const [success, exit7, noBinary] = readFileSync(
  new URL("../../fixtures/recorded/pod-exec-status-v5.jsonl", import.meta.url),
  "utf8",
)
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as object);

describe("the exit status of a command run through the exec subresource", () => {
  test("Success is exit 0; NonZeroExitCode carries the container's exit code", () => {
    expect(statusOutcome(success!)).toEqual({ exitCode: 0 });
    expect(statusOutcome(exit7!)).toEqual({ exitCode: 7 });
  });

  test("any other Failure means the command did not run, with the server's reason", () => {
    expect(statusOutcome(noBinary!)).toEqual({
      why: expect.stringMatching(
        /^Internal error occurred: .*"\/no\/such\/binary": stat \/no\/such\/binary: no such file/,
      ),
    });
    expect(statusOutcome({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [] } })).toEqual({
      why: "NonZeroExitCode",
    });
  });
});

describe("the exec request", () => {
  test("a WebSocket URL with every word of the command, the container only when named", () => {
    const url = new URL(execUrl("https://127.0.0.1:6443/", "ns-1", "pod-a", "app", ["sh", "-c", "echo a&b"]));
    expect(url.protocol).toBe("wss:");
    expect(url.pathname).toBe("/api/v1/namespaces/ns-1/pods/pod-a/exec");
    expect(url.searchParams.getAll("command")).toEqual(["sh", "-c", "echo a&b"]);
    expect(Object.fromEntries([...url.searchParams].filter(([k]) => k !== "command"))).toEqual({
      stdout: "true",
      stderr: "true",
      stdin: "false",
      tty: "false",
      container: "app",
    });
    expect(new URL(execUrl("https://h:1", "n", "p", undefined, ["true"])).searchParams.has("container")).toBe(false);
  });
});
