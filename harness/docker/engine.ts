/**
 * Makes a Docker engine reachable, or says exactly why it cannot.
 *
 * 1. A daemon that already answers is used as is: volcert changes nothing on that host's Docker.
 * 2. Otherwise, only as root on Debian: install Debian's docker.io if dockerd is missing, register
 *    the capability shim when (and only when) the bounding set lacks a capability Docker asks for
 *    (recording the default runtime it replaces), and start dockerd. A dockerd that runs but does
 *    not answer is restarted only if no container volcert did not create is running, or the user
 *    said --yes. Every decision is logged. Running it twice changes nothing the second time.
 * 3. Anywhere else: an InfraError naming what to start.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { InfraError } from "../core/errors.ts";
import { exec, lastLines } from "../core/exec.ts";
import { say } from "../core/progress.ts";
import { waitFor } from "../core/wait.ts";
import { missingCapabilities, parseCapBnd } from "./capabilities.ts";
import { checkRestartIsSafe, hostContainers, NOTHING_IS_OURS, type ContainerOwnership } from "./containers.ts";
import { dataRootOf, dockerdLogTail, pidFileOf, startDockerd, systemDockerdPid } from "./dockerd.ts";
import {
  HOST_PATHS,
  readDaemonJson,
  writeDaemonJson,
  writeFileAtomic,
  writeShimRecord,
  type DockerHostPaths,
} from "./host-files.ts";
import { hasShim, recordBeforeShim, renderShimScript, withShim, type DaemonJson } from "./shim.ts";

/** What the host's Docker may be put through, decided by the CLI. */
export interface DockerHostOptions {
  /** Which containers are volcert's (default: none, so any running container blocks a restart). */
  isOurs?: ContainerOwnership;
  /** The user agreed to restart Docker even with other people's containers running (--yes). */
  consentToRestart?: boolean;
  paths?: DockerHostPaths;
}

export interface EngineInfo {
  serverVersion: string;
  /** What ensureDockerEngine had to do, for the log and the benchmarks. */
  actions: string[];
}

export async function dockerServerVersion(): Promise<{ ok: boolean; version: string; error: string }> {
  const r = await exec("docker", ["version", "--format", "{{.Server.Version}}"], { nothrow: true, timeoutMs: 20_000 });
  return { ok: r.ok && r.stdout.trim() !== "", version: r.stdout.trim(), error: lastLines(r.stderr || r.stdout, 3) };
}

export async function ensureDockerEngine(host: DockerHostOptions = {}): Promise<EngineInfo> {
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

  const paths = host.paths ?? HOST_PATHS;
  const { config, changed } = await configureShim(missing, paths, log);
  const pidFile = pidFileOf(config, paths);
  const runningPid = await systemDockerdPid(pidFile);
  if (runningPid !== null && !changed) {
    log(`dockerd (pid ${runningPid}) is running but not answering yet; waiting for it`);
  } else {
    if (runningPid !== null) {
      const { containers, source } = await hostContainers(dataRootOf(config, paths));
      const { foreign } = checkRestartIsSafe(containers, {
        isOurs: host.isOurs ?? NOTHING_IS_OURS,
        consent: host.consentToRestart ?? false,
        why: "its configuration changed and it does not answer",
        source,
      });
      if (foreign.length) log(`restarting Docker with ${foreign.length} container(s) not volcert's running (--yes)`);
    }
    await startDockerd({ restartPid: runningPid, pidFile, paths }, log);
  }

  const version = await waitFor(
    "Docker engine answering on its socket",
    async () => {
      const v = await dockerServerVersion();
      return {
        done: v.ok,
        value: v.version,
        seen: v.ok ? v.version : `${v.error}; dockerd log: ${await dockerdLogTail(paths)}`,
      };
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

/**
 * Writes the shim and registers it as dockerd's default runtime. The default runtime it replaces
 * is recorded first, so `volcert docker unshim` can restore it. Returns the resulting daemon.json
 * and whether it changed (a running dockerd would have to re-read it); a new shim script alone
 * needs nothing, dockerd runs the file afresh for every container.
 */
async function configureShim(
  missing: string[],
  paths: DockerHostPaths,
  log: (m: string) => void,
): Promise<{ config: DaemonJson; changed: boolean }> {
  const current = await readDaemonJson(paths.daemonJson);
  if (!missing.length) {
    log("capability bounding set is complete; no runtime shim needed");
    // A shim registered on an earlier boot stays until `volcert docker unshim`, which checks
    // first: containers created with it cannot start without it.
    if (hasShim(current))
      log(`the runtime shim registered earlier is no longer needed: \`volcert docker unshim\` removes it`);
    return { config: current, changed: false };
  }
  log(
    `capability bounding set lacks ${missing.join(", ")}; registering runtime shim ${paths.shim} as dockerd's default runtime`,
  );
  const script = renderShimScript(missing);
  const old = existsSync(paths.shim) ? await readFile(paths.shim, "utf8") : "";
  if (old !== script) {
    // Atomic: dockerd may be running the old script right now, and sh reads scripts as it goes.
    await writeFileAtomic(paths.shim, script, 0o755);
    log(`wrote ${paths.shim}`);
  }
  const record = recordBeforeShim(current);
  if (record) {
    await writeShimRecord(paths.shimRecord, record);
    log(
      `recorded the previous default runtime (${record.defaultRuntime ?? "none: runc"}) in ${paths.shimRecord}; \`volcert docker unshim\` restores it`,
    );
  }
  const next = withShim(current, paths.shim);
  const changed = JSON.stringify(next) !== JSON.stringify(current);
  if (changed) {
    await writeDaemonJson(paths.daemonJson, next);
    log(`updated ${paths.daemonJson} (other keys kept)`);
  }
  return { config: next, changed };
}
