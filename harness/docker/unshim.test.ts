import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fromInspect, type HostContainer } from "./containers.ts";
import { writeDaemonJson, writeFileAtomic, writeShimRecord, type DockerHostPaths } from "./host-files.ts";
import { withShim, type DaemonJson } from "./shim.ts";
import { removeShim, type DockerdControl } from "./unshim.ts";

const fixture = (name: string) => join(import.meta.dirname, "../../fixtures/recorded", name);
const recordedNode = fromInspect(
  (JSON.parse(readFileSync(fixture("docker-inspect-kind-node-running.json"), "utf8")) as [never])[0],
);

function hostIn(dir: string): DockerHostPaths {
  return {
    daemonJson: join(dir, "etc/docker/daemon.json"),
    shim: join(dir, "libexec/volcert/volcert-runc"),
    shimRecord: join(dir, "libexec/volcert/default-runtime-before-shim.json"),
    defaultPidFile: join(dir, "run/docker.pid"),
    defaultDataRoot: join(dir, "var/lib/docker"),
    dockerdLog: join(dir, "log/dockerd.log"),
  };
}

/** A dockerd that reloads its default runtime from the file, as Docker 20.10 does (absent key: kept). */
function fakeDockerd(
  paths: DockerHostPaths,
  opts: { running: boolean; reloads?: boolean; containers?: HostContainer[] },
) {
  const calls: string[] = [];
  let defaultRuntime = "volcert-runc";
  const control: DockerdControl = {
    containers: async () => ({ containers: opts.containers ?? [], source: "fake" }),
    runningPid: async () => (opts.running ? 4242 : null),
    reload: (pid) => {
      calls.push(`reload ${pid}`);
      const file = JSON.parse(readFileSync(paths.daemonJson, "utf8")) as DaemonJson;
      if (opts.reloads !== false && typeof file["default-runtime"] === "string")
        defaultRuntime = file["default-runtime"];
    },
    defaultRuntime: async () => defaultRuntime,
    restart: async (pid) => {
      calls.push(`restart ${pid}`);
      const file = JSON.parse(readFileSync(paths.daemonJson, "utf8")) as DaemonJson;
      defaultRuntime = typeof file["default-runtime"] === "string" ? file["default-runtime"] : "runc";
    },
  };
  return { control, calls, current: () => defaultRuntime };
}

async function installed(before: DaemonJson, record: boolean): Promise<DockerHostPaths> {
  const paths = hostIn(mkdtempSync(join(tmpdir(), "volcert-unshim-")));
  await writeDaemonJson(paths.daemonJson, withShim(before, paths.shim));
  await writeFileAtomic(paths.shim, "#!/bin/sh\n", 0o755);
  if (record) {
    const previous = typeof before["default-runtime"] === "string" ? before["default-runtime"] : null;
    await writeShimRecord(paths.shimRecord, { defaultRuntime: previous, recordedAt: "2025-01-01T00:00:00.000Z" });
  }
  return paths;
}

const daemonJson = (paths: DockerHostPaths) => JSON.parse(readFileSync(paths.daemonJson, "utf8")) as DaemonJson;
const nvidia = JSON.parse(readFileSync(fixture("daemon-json-nvidia-default.json"), "utf8")) as DaemonJson;

describe("volcert docker unshim", () => {
  test("restores the recorded default runtime by reloading dockerd, and removes the shim and its record", async () => {
    const before = { ...nvidia, "log-driver": "journald" };
    const paths = await installed(before, true);
    const dockerd = fakeDockerd(paths, { running: true });
    const log: string[] = [];
    await removeShim({ paths, dockerd: dockerd.control, log: (m) => log.push(m) });
    expect(daemonJson(paths)).toEqual(before);
    expect(dockerd.calls).toEqual(["reload 4242"]);
    expect(dockerd.current()).toBe("nvidia");
    expect(existsSync(paths.shim) || existsSync(paths.shimRecord)).toBe(false);
    expect(log.join("\n")).toContain("no container was stopped");
  });

  test("no default before: reloads with an explicit runc, then writes the file without the key", async () => {
    const before = { "log-driver": "json-file" };
    const paths = await installed(before, true);
    const dockerd = fakeDockerd(paths, { running: true });
    await removeShim({ paths, dockerd: dockerd.control, log: () => undefined });
    expect(dockerd.current()).toBe("runc");
    expect(daemonJson(paths)).toEqual(before);
  });

  test("the shim installed before records existed (the recorded daemon.json): back to Docker's default", async () => {
    const paths = hostIn(mkdtempSync(join(tmpdir(), "volcert-unshim-")));
    const legacy = JSON.parse(readFileSync(fixture("daemon-json-volcert-shim-unrecorded.json"), "utf8")) as DaemonJson;
    await writeDaemonJson(paths.daemonJson, legacy);
    const dockerd = fakeDockerd(paths, { running: false });
    await removeShim({ paths, dockerd: dockerd.control, log: () => undefined });
    expect(daemonJson(paths)).toEqual({});
    expect(dockerd.calls).toEqual([]);
  });

  test("refuses while containers created with the shim exist, naming them, and changes nothing", async () => {
    const paths = await installed(nvidia, true);
    const before = readFileSync(paths.daemonJson, "utf8");
    const dockerd = fakeDockerd(paths, { running: true, containers: [recordedNode] });
    await expect(removeShim({ paths, dockerd: dockerd.control, log: () => undefined })).rejects.toThrow(
      /1 container\(s\) were created with the volcert-runc runtime[\s\S]*volcert-rec-worker2 \(kind cluster volcert-rec\)/,
    );
    expect(readFileSync(paths.daemonJson, "utf8")).toBe(before);
    expect(existsSync(paths.shim)).toBe(true);
  });

  test("a reload that does not take: no restart while foreign containers run, the file put back as it was", async () => {
    const paths = await installed(nvidia, true);
    const before = readFileSync(paths.daemonJson, "utf8");
    const foreign: HostContainer = { ...recordedNode, name: "db", runtime: "runc", labels: {} };
    const dockerd = fakeDockerd(paths, { running: true, reloads: false, containers: [foreign] });
    await expect(
      removeShim({ paths, dockerd: dockerd.control, reloadTimeoutMs: 300, log: () => undefined }),
    ).rejects.toThrow(/restart Docker[\s\S]*- db/);
    expect(dockerd.calls).toEqual(["reload 4242"]);
    expect(readFileSync(paths.daemonJson, "utf8")).toBe(before);
    expect(existsSync(paths.shim)).toBe(true);
  });

  test("a reload that does not take: restarts when only volcert's containers run", async () => {
    const paths = await installed(nvidia, true);
    const ours: HostContainer = { ...recordedNode, runtime: "runc" };
    const dockerd = fakeDockerd(paths, { running: true, reloads: false, containers: [ours] });
    await removeShim({
      paths,
      dockerd: dockerd.control,
      reloadTimeoutMs: 300,
      isOurs: (c) => c.name.startsWith("volcert-"),
      log: () => undefined,
    });
    expect(dockerd.calls).toEqual(["reload 4242", "restart 4242"]);
    expect(dockerd.current()).toBe("nvidia");
    expect(daemonJson(paths)).toEqual(nvidia);
  });

  test("nothing installed: nothing changed", async () => {
    const paths = hostIn(mkdtempSync(join(tmpdir(), "volcert-unshim-")));
    await writeDaemonJson(paths.daemonJson, nvidia);
    const log: string[] = [];
    await removeShim({ paths, dockerd: fakeDockerd(paths, { running: true }).control, log: (m) => log.push(m) });
    expect(daemonJson(paths)).toEqual(nvidia);
    expect(log.join("")).toContain("nothing to do");
  });
});

describe("daemon.json writes", () => {
  test("are atomic renames that keep the file's mode and leave no temp file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "volcert-daemon-json-"));
    const file = join(dir, "daemon.json");
    writeFileSync(file, "{}\n", { mode: 0o600 });
    const inode = statSync(file).ino;
    await writeDaemonJson(file, nvidia);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).ino).not.toBe(inode); // replaced, not rewritten in place
    expect(readdirSync(dir)).toEqual(["daemon.json"]);
    expect(daemonJson({ daemonJson: file } as DockerHostPaths)).toEqual(nvidia);
  });
});
