import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkRestartIsSafe, containersFromDisk, fromInspect, type HostContainer } from "./containers.ts";

const inspected = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../fixtures/recorded/docker-inspect-kind-node-running.json"), "utf8"),
) as [Parameters<typeof fromInspect>[0]];
const node = fromInspect(inspected[0]);
const postgres: HostContainer = { id: "p", name: "postgres", running: true, runtime: "runc", labels: {} };
const other: HostContainer = { ...node, name: "dev-control-plane", labels: { "io.x-k8s.kind.cluster": "dev" } };
const isOurs = (c: { name: string }) => c.name.startsWith("volcert-");

describe("containers on the host", () => {
  test("docker inspect: name, state, the runtime it was created with, labels", () => {
    expect(node).toMatchObject({ name: "volcert-rec-worker2", running: true, runtime: "volcert-runc" });
    expect(node.labels["io.x-k8s.kind.cluster"]).toBe("volcert-rec");
  });

  test("dockerd's files, when the engine does not answer", async () => {
    const root = mkdtempSync(join(tmpdir(), "volcert-data-root-"));
    const dir = join(root, "containers", "abc");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.v2.json"), JSON.stringify({ ...inspected[0], HostConfig: undefined }));
    writeFileSync(join(dir, "hostconfig.json"), JSON.stringify({ Runtime: "volcert-runc" }));
    mkdirSync(join(root, "containers", "half-removed"));
    expect(await containersFromDisk(root)).toEqual([node]);
  });

  test("a restart is refused while foreign containers run, naming them; stopped ones do not count", () => {
    const opts = { isOurs, consent: false, why: "test", source: "the Docker engine" };
    expect(() => checkRestartIsSafe([node, other, postgres], opts)).toThrow(
      /2 running container\(s\) are not volcert's[\s\S]*dev-control-plane \(kind cluster dev\)[\s\S]*postgres$/,
    );
    expect(() => checkRestartIsSafe([postgres], opts)).toThrow(
      expect.objectContaining({ fix: expect.stringContaining("--yes") }),
    );
    expect(checkRestartIsSafe([node, { ...postgres, running: false }], opts).foreign).toEqual([]);
    expect(checkRestartIsSafe([postgres], { ...opts, consent: true }).foreign).toEqual([postgres]);
  });
});
