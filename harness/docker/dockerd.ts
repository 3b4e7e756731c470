/**
 * The one dockerd volcert may touch: the system daemon whose pid is in its pid file and whose
 * /proc/<pid>/comm says dockerd. Never a process found by name: rootless dockerds of other users
 * (and dockerds in other pid files) are not volcert's to stop.
 */
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { exec, lastLines, spawnDaemon } from "../core/exec.ts";
import { waitFor } from "../core/wait.ts";
import type { DockerHostPaths } from "./host-files.ts";
import type { DaemonJson } from "./shim.ts";

export function pidFileOf(config: DaemonJson, paths: DockerHostPaths): string {
  const p = config["pidfile"];
  return typeof p === "string" && p ? p : paths.defaultPidFile;
}

export function dataRootOf(config: DaemonJson, paths: DockerHostPaths): string {
  const p = config["data-root"] ?? config["graph"];
  return typeof p === "string" && p ? p : paths.defaultDataRoot;
}

async function commOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
}

/** The pid of the system dockerd, or null when its pid file names no running dockerd. */
export async function systemDockerdPid(pidFile: string): Promise<number | null> {
  if (!existsSync(pidFile)) return null;
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  return (await commOf(pid)) === "dockerd" ? pid : null;
}

export async function systemdIsInit(): Promise<boolean> {
  return (await readFile("/proc/1/comm", "utf8").catch(() => "")).trim() === "systemd";
}

/** Asks dockerd to re-read daemon.json (runtimes and default-runtime are reloadable): no container stops. */
export function reloadDockerd(pid: number): void {
  process.kill(pid, "SIGHUP");
}

export async function stopDockerd(pid: number, log: (m: string) => void): Promise<void> {
  log(`stopping dockerd (pid ${pid}, from its pid file)`);
  process.kill(pid, "SIGTERM");
  await waitFor(
    `dockerd pid ${pid} to exit`,
    async () => {
      const comm = await commOf(pid);
      return { done: comm !== "dockerd", seen: comm === "dockerd" ? "still running" : "exited" };
    },
    { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
  );
}

/**
 * Starts dockerd, or restarts the system one: through systemd when it is PID 1, else detached
 * with its log in paths.dockerdLog. The caller decides whether a restart is safe.
 */
export async function startDockerd(
  opts: { restartPid: number | null; pidFile: string; paths: DockerHostPaths },
  log: (m: string) => void,
): Promise<void> {
  if (await systemdIsInit()) {
    const verb = opts.restartPid === null ? "start" : "restart";
    log(`${verb === "start" ? "starting" : "restarting"} docker.service with systemctl`);
    await exec("systemctl", [verb, "docker"], { timeoutMs: 120_000 });
    return;
  }
  if (opts.restartPid !== null) await stopDockerd(opts.restartPid, log);
  await removeStalePidFile(opts.pidFile, log);
  log(`no init system manages Docker here; starting dockerd in the background (log: ${opts.paths.dockerdLog})`);
  await spawnDaemon("dockerd", [], opts.paths.dockerdLog);
}

/**
 * A machine that was stopped without shutting dockerd down keeps its pid file; if that pid now
 * belongs to another process, dockerd refuses to start. Remove the file only in that case.
 */
async function removeStalePidFile(path: string, log: (m: string) => void): Promise<void> {
  if (!existsSync(path)) return;
  const pid = (await readFile(path, "utf8")).trim();
  const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
  if (comm !== "dockerd") {
    log(`removing stale ${path} (pid ${pid} is ${comm ? `"${comm}"` : "not running"})`);
    await rm(path, { force: true });
  }
}

export async function dockerdLogTail(paths: DockerHostPaths): Promise<string> {
  try {
    return lastLines(await readFile(paths.dockerdLog, "utf8"), 1) || "(empty)";
  } catch {
    return "(no log)";
  }
}

/** The engine's default runtime as it reports it (null when it does not answer). */
export async function engineDefaultRuntime(): Promise<string | null> {
  const r = await exec("docker", ["info", "--format", "{{.DefaultRuntime}}"], { nothrow: true, timeoutMs: 20_000 });
  return r.ok ? r.stdout.trim() : null;
}
