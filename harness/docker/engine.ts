/**
 * Makes a Docker engine reachable, or says exactly why it cannot.
 *
 * 1. A daemon that already answers is used as is.
 * 2. Otherwise, only as root on Debian: install Debian's docker.io if dockerd is missing, register
 *    the capability shim when (and only when) the bounding set lacks a capability Docker asks for,
 *    and start dockerd. Every decision is logged. Running it twice changes nothing the second time.
 * 3. Anywhere else: an InfraError naming what to start.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InfraError } from "../core/errors.ts";
import { exec, lastLines, spawnDaemon } from "../core/exec.ts";
import { say } from "../core/progress.ts";
import { waitFor } from "../core/wait.ts";
import { missingCapabilities, parseCapBnd } from "./capabilities.ts";
import { renderShimScript, withShim, type DaemonJson } from "./shim.ts";

const DAEMON_JSON = "/etc/docker/daemon.json";
const SHIM_PATH = "/usr/local/libexec/volcert/volcert-runc";
const DOCKERD_LOG = "/var/log/volcert-dockerd.log";

export interface EngineInfo {
  serverVersion: string;
  /** What ensureDockerEngine had to do, for the log and the benchmarks. */
  actions: string[];
}

export async function dockerServerVersion(): Promise<{ ok: boolean; version: string; error: string }> {
  const r = await exec("docker", ["version", "--format", "{{.Server.Version}}"], { nothrow: true, timeoutMs: 20_000 });
  return { ok: r.ok && r.stdout.trim() !== "", version: r.stdout.trim(), error: lastLines(r.stderr || r.stdout, 3) };
}

export async function ensureDockerEngine(): Promise<EngineInfo> {
  const first = await dockerServerVersion();
  if (first.ok) return { serverVersion: first.version, actions: [] };

  if (process.env["DOCKER_HOST"]) {
    throw new InfraError(`DOCKER_HOST=${process.env["DOCKER_HOST"]} does not answer: ${first.error}`, {
      fix: "start the Docker engine DOCKER_HOST points at, or unset DOCKER_HOST to let volcert start a local one",
    });
  }
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync("/etc/debian_version");
  if (!isRoot || !isDebian) {
    throw new InfraError(`no Docker engine is reachable (${first.error || "docker CLI gave no answer"})`, {
      fix: isRoot
        ? "install and start Docker (volcert only installs it itself on Debian)"
        : "start Docker (e.g. `sudo systemctl start docker`), make sure your user may use /var/run/docker.sock, or run volcert as root on Debian to let it install and start Docker",
    });
  }

  const actions: string[] = [];
  const log = (m: string) => {
    actions.push(m);
    say(`docker: ${m}`);
  };

  const missing = missingCapabilities(parseCapBnd(await readFile("/proc/self/status", "utf8")), await lastCap());
  const packages = [
    ...(existsSync("/usr/sbin/dockerd") ? [] : ["docker.io"]),
    ...(missing.length && !(await onPath("jq")) ? ["jq"] : []),
  ];
  if (packages.length) {
    log(`installing ${packages.join(", ")} from Debian (apt-get)`);
    await aptInstall(packages);
  }

  const changed = await configureShim(missing, log);
  await startDockerd(changed, log);

  const version = await waitFor(
    "Docker engine answering on its socket",
    async () => {
      const v = await dockerServerVersion();
      return { done: v.ok, value: v.version, seen: v.ok ? v.version : `${v.error}; dockerd log: ${await logTail()}` };
    },
    { timeoutMs: 90_000, intervalMs: 1000, blame: "infrastructure" },
  );
  log(`engine ${version} is up`);
  return { serverVersion: version, actions };
}

async function lastCap(): Promise<number> {
  try {
    return Number((await readFile("/proc/sys/kernel/cap_last_cap", "utf8")).trim());
  } catch {
    return 40;
  }
}

async function onPath(program: string): Promise<boolean> {
  return (await exec("sh", ["-c", 'command -v "$1"', "sh", program], { nothrow: true })).ok;
}

async function aptInstall(packages: string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const attempt = () =>
    exec("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
      env,
      nothrow: true,
      timeoutMs: 15 * 60_000,
    });
  let r = await attempt();
  if (!r.ok) {
    say("docker: apt-get install failed; refreshing package lists and retrying");
    await exec("apt-get", ["update"], { env, timeoutMs: 10 * 60_000 });
    r = await attempt();
  }
  if (!r.ok) {
    throw new InfraError(`apt-get could not install ${packages.join(" ")}: ${lastLines(r.stderr, 5)}`, {
      fix: "check that Debian's package archive is reachable (apt-get update)",
    });
  }
}

/** Returns true when daemon.json or the shim changed (a running dockerd would need a restart). */
async function configureShim(missing: string[], log: (m: string) => void): Promise<boolean> {
  let current: DaemonJson = {};
  if (existsSync(DAEMON_JSON)) {
    const text = await readFile(DAEMON_JSON, "utf8");
    try {
      current = text.trim() ? (JSON.parse(text) as DaemonJson) : {};
    } catch (err) {
      throw new InfraError(`${DAEMON_JSON} is not valid JSON (${(err as Error).message})`, {
        fix: `repair or remove ${DAEMON_JSON}; volcert will not overwrite a file it cannot read`,
      });
    }
  }
  let changed = false;
  if (missing.length) {
    log(
      `capability bounding set lacks ${missing.join(", ")}; registering runtime shim ${SHIM_PATH} as dockerd's default runtime`,
    );
    const runc = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"].find((p) => existsSync(p));
    if (!runc) throw new InfraError("runc not found (expected /usr/sbin/runc from Debian's runc package)");
    const script = renderShimScript(missing, runc);
    const old = existsSync(SHIM_PATH) ? await readFile(SHIM_PATH, "utf8") : "";
    if (old !== script) {
      await mkdir(dirname(SHIM_PATH), { recursive: true });
      await writeFile(SHIM_PATH, script);
      changed = true;
    }
    await chmod(SHIM_PATH, 0o755);
  } else {
    log("capability bounding set is complete; no runtime shim needed");
  }
  const next = withShim(current, missing.length ? SHIM_PATH : null);
  if (JSON.stringify(next) !== JSON.stringify(current)) {
    await mkdir(dirname(DAEMON_JSON), { recursive: true });
    await writeFile(DAEMON_JSON, `${JSON.stringify(next, null, 2)}\n`);
    log(`updated ${DAEMON_JSON}`);
    changed = true;
  }
  return changed;
}

async function startDockerd(configChanged: boolean, log: (m: string) => void): Promise<void> {
  const systemdIsInit = (await readFile("/proc/1/comm", "utf8").catch(() => "")).trim() === "systemd";
  if (systemdIsInit) {
    log(`${configChanged ? "restarting" : "starting"} docker.service with systemctl`);
    await exec("systemctl", [configChanged ? "restart" : "start", "docker"], { timeoutMs: 120_000 });
    return;
  }
  const running = await exec("pgrep", ["-x", "dockerd"], { nothrow: true });
  if (running.ok) {
    if (configChanged) {
      log("stopping the running dockerd so it picks up the new configuration");
      await exec("pkill", ["-x", "dockerd"], { nothrow: true });
      await waitFor(
        "old dockerd to exit",
        async () => {
          const r = await exec("pgrep", ["-x", "dockerd"], { nothrow: true });
          return { done: !r.ok, seen: r.ok ? `dockerd pid ${r.stdout.trim()} still running` : "exited" };
        },
        { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
      );
    } else {
      log(`dockerd (pid ${running.stdout.trim()}) is running but not answering yet; waiting for it`);
      return;
    }
  }
  await removeStalePidFile("/var/run/docker.pid", "dockerd", log);
  log(`no init system manages Docker here; starting dockerd in the background (log: ${DOCKERD_LOG})`);
  await spawnDaemon("dockerd", [], DOCKERD_LOG);
}

/**
 * A machine that was stopped without shutting dockerd down keeps /var/run/docker.pid; if that pid
 * now belongs to another process, dockerd refuses to start. Remove the file only in that case.
 */
async function removeStalePidFile(path: string, program: string, log: (m: string) => void): Promise<void> {
  if (!existsSync(path)) return;
  const pid = (await readFile(path, "utf8")).trim();
  const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
  if (comm !== program) {
    log(`removing stale ${path} (pid ${pid} is ${comm ? `"${comm}"` : "not running"})`);
    await rm(path, { force: true });
  }
}

async function logTail(): Promise<string> {
  try {
    return lastLines(await readFile(DOCKERD_LOG, "utf8"), 1) || "(empty)";
  } catch {
    return "(no log)";
  }
}
