import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { dockerExecArgs, freezeRefused, kindNodeShell, nodeNames, parseDockerInspect, powerState } from "./nodes.ts";

const recorded = (name: string) => readFileSync(new URL(`../../fixtures/recorded/${name}`, import.meta.url), "utf8");

describe("kind node state and address (recorded docker inspect of volcert-rec-worker2)", () => {
  test("running, with its address on the kind network", () => {
    expect(parseDockerInspect(recorded("docker-inspect-kind-node-running.json"))).toEqual({
      state: "running",
      addresses: { kind: "172.18.0.3" },
    });
  });

  test("paused (docker pause) is a frozen node", () => {
    expect(parseDockerInspect(recorded("docker-inspect-kind-node-paused.json")).state).toBe("paused");
  });

  test("stopped (docker stop): exited, and no address any more", () => {
    expect(parseDockerInspect(recorded("docker-inspect-kind-node-stopped.json"))).toEqual({
      state: "stopped",
      addresses: {},
    });
  });

  test("Docker states that are not a power state are unknown", () => {
    expect(powerState("restarting")).toBe("unknown");
    expect(powerState("created")).toBe("stopped");
  });
});

describe("nodes of a kind cluster", () => {
  test("the containers labelled with the cluster (recorded docker ps), sorted", () => {
    expect(nodeNames(recorded("docker-ps-kind-nodes.txt"))).toEqual([
      "volcert-rec-control-plane",
      "volcert-rec-worker",
      "volcert-rec-worker2",
    ]);
  });
});

describe("docker exec", () => {
  test("argv is passed through unchanged, bounded by timeout in the node; stdin only with input", () => {
    expect(dockerExecArgs("volcert-rec-worker", ["sh", "-c", 'echo "$1"', "sh", "a b"], false, 120_000)).toEqual([
      "exec",
      "volcert-rec-worker",
      "timeout",
      "--kill-after=5s",
      "110s",
      "sh",
      "-c",
      'echo "$1"',
      "sh",
      "a b",
    ]);
    expect(dockerExecArgs("volcert-rec-worker", ["cat"], true, 30_000)).toEqual([
      "exec",
      "-i",
      "volcert-rec-worker",
      "timeout",
      "--kill-after=5s",
      "20s",
      "cat",
    ]);
  });
});

describe("what a person pastes to reach a kind node", () => {
  test("docker exec, interactive when asked", () => {
    const shell = kindNodeShell("volcert-dev");
    expect(shell.commandLine("volcert-dev-worker", "losetup --list")).toBe(
      "docker exec volcert-dev-worker losetup --list",
    );
    expect(shell.commandLine("volcert-dev-worker", "bash", { interactive: true })).toBe(
      "docker exec -it volcert-dev-worker bash",
    );
  });
});

describe("freezing a node", () => {
  test("runc refusing to freeze this time is retried; any other docker pause failure is not", () => {
    expect(freezeRefused(recorded("docker-pause-unable-to-freeze.txt"))).toBe(true);
    // docker exec into a paused node: a different failure, never read as a refused freeze.
    expect(freezeRefused(recorded("docker-exec-kind-node-paused.txt"))).toBe(false);
  });
});
