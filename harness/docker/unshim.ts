/**
 * `volcert docker unshim`: takes the capability shim out of dockerd's configuration, puts back the
 * default runtime it replaced, and deletes the shim and its record.
 *
 * No restart is needed: dockerd re-reads `runtimes` and `default-runtime` on SIGHUP, and running
 * containers are untouched by that. Docker 20.10 (Debian bookworm) keeps its current default when
 * the reloaded file has no `default-runtime` at all, so when the default to restore is "none" the
 * file is first written with an explicit `runc`, reloaded, checked through `docker info`, and only
 * then written without the key. Only if the reload does not take does volcert restart dockerd,
 * and only when that is safe (or --yes).
 */
import { constants, existsSync } from "node:fs";
import { access } from "node:fs/promises";
import { dirname } from "node:path";
import { InfraError } from "../core/errors.ts";
import { waitFor, WaitTimeout } from "../core/wait.ts";
import {
  checkRestartIsSafe,
  describeContainer,
  hostContainers,
  NOTHING_IS_OURS,
  type ContainerOwnership,
  type HostContainer,
} from "./containers.ts";
import {
  dataRootOf,
  engineDefaultRuntime,
  pidFileOf,
  reloadDockerd,
  startDockerd,
  systemDockerdPid,
} from "./dockerd.ts";
import { dockerServerVersion } from "./engine.ts";
import {
  HOST_PATHS,
  readDaemonJson,
  readShimRecord,
  removeOwnFile,
  writeDaemonJson,
  type DockerHostPaths,
} from "./host-files.ts";
import { hasShim, SHIM_RUNTIME_NAME, STOCK_RUNTIME, withoutShim, type DaemonJson } from "./shim.ts";

/** What unshim does to dockerd and how it looks at containers (replaced in unit tests). */
export interface DockerdControl {
  containers(dataRoot: string): Promise<{ containers: HostContainer[]; source: string }>;
  runningPid(pidFile: string): Promise<number | null>;
  reload(pid: number): void;
  /** The default runtime the engine reports, null when it does not answer. */
  defaultRuntime(): Promise<string | null>;
  restart(pid: number, pidFile: string, paths: DockerHostPaths, log: (m: string) => void): Promise<void>;
}

export const SYSTEM_DOCKERD: DockerdControl = {
  containers: hostContainers,
  runningPid: systemDockerdPid,
  reload: reloadDockerd,
  defaultRuntime: engineDefaultRuntime,
  async restart(pid, pidFile, paths, log) {
    await startDockerd({ restartPid: pid, pidFile, paths }, log);
    await waitFor(
      "Docker engine answering after the restart",
      async () => {
        const v = await dockerServerVersion();
        return { done: v.ok, seen: v.ok ? v.version : v.error };
      },
      { timeoutMs: 90_000, intervalMs: 1000, blame: "infrastructure" },
    );
  },
};

export interface UnshimOptions {
  isOurs?: ContainerOwnership;
  /** --yes: remove the shim even though containers were created with it, restart even with foreign containers. */
  consent?: boolean;
  paths?: DockerHostPaths;
  dockerd?: DockerdControl;
  reloadTimeoutMs?: number;
  log: (m: string) => void;
}

export async function removeShim(opts: UnshimOptions): Promise<void> {
  const paths = opts.paths ?? HOST_PATHS;
  const dockerd = opts.dockerd ?? SYSTEM_DOCKERD;
  const { log } = opts;
  const current = await readDaemonJson(paths.daemonJson);
  const record = await readShimRecord(paths.shimRecord);
  if (!hasShim(current) && !existsSync(paths.shim) && !record) {
    log(`the runtime shim is not installed (${paths.daemonJson} does not name ${SHIM_RUNTIME_NAME}); nothing to do`);
    return;
  }
  await checkWritable(paths);

  const { containers, source } = await dockerd.containers(dataRootOf(current, paths));
  const users = containers.filter((c) => c.runtime === SHIM_RUNTIME_NAME);
  if (users.length && !opts.consent) {
    throw new InfraError(
      `${users.length} container(s) were created with the ${SHIM_RUNTIME_NAME} runtime (seen in ${source}); without the shim they cannot start again, and \`docker exec\` into the running ones fails:\n` +
        users.map((c) => `  - ${describeContainer(c)}${c.running ? "" : " (stopped)"}`).join("\n"),
      {
        fix: "remove them first (volcert's clusters: `volcert cluster down <name>`; the others: ask whoever runs them), or pass --yes to remove the shim anyway",
      },
    );
  }
  if (users.length) log(`removing the shim although ${users.length} container(s) use it (--yes)`);

  if (hasShim(current)) await restoreDefaultRuntime(current, record, { ...opts, paths, dockerd, containers, source });

  for (const file of [paths.shim, paths.shimRecord]) if (await removeOwnFile(file)) log(`removed ${file}`);
}

async function restoreDefaultRuntime(
  current: DaemonJson,
  record: Awaited<ReturnType<typeof readShimRecord>>,
  opts: UnshimOptions & {
    paths: DockerHostPaths;
    dockerd: DockerdControl;
    containers: HostContainer[];
    source: string;
  },
): Promise<void> {
  const { paths, dockerd, log } = opts;
  const next = withoutShim(current, record);
  const target = typeof next["default-runtime"] === "string" ? next["default-runtime"] : STOCK_RUNTIME;
  const described = record
    ? `the default runtime recorded when the shim was installed (${record.defaultRuntime ?? "none: runc"})`
    : `Docker's own default (${STOCK_RUNTIME}; no record of an earlier one: the shim predates records)`;
  const pidFile = pidFileOf(current, paths);
  const pid = await dockerd.runningPid(pidFile);
  if (pid === null) {
    await writeDaemonJson(paths.daemonJson, next);
    log(`restored ${described} in ${paths.daemonJson}; no dockerd runs under ${pidFile}, it reads it when it starts`);
    return;
  }

  // An explicit default first: a reloaded file without the key would leave the shim as default.
  await writeDaemonJson(paths.daemonJson, { ...next, "default-runtime": target });
  log(`asking dockerd (pid ${pid}) to reload its configuration (SIGHUP; running containers are not touched)`);
  dockerd.reload(pid);
  const reloaded = await waitFor(
    `dockerd to report default runtime ${target}`,
    async () => {
      const seen = await dockerd.defaultRuntime();
      return { done: seen === target, seen: seen ?? "engine does not answer" };
    },
    { timeoutMs: opts.reloadTimeoutMs ?? 20_000, intervalMs: 250, blame: "infrastructure" },
  ).then(
    () => true,
    (err: unknown) => {
      if (err instanceof WaitTimeout) return false;
      throw err;
    },
  );
  if (reloaded) {
    if (JSON.stringify(next) !== JSON.stringify({ ...next, "default-runtime": target })) {
      await writeDaemonJson(paths.daemonJson, next);
    }
    log(`restored ${described} in ${paths.daemonJson}; dockerd reloaded it (no container was stopped)`);
    return;
  }

  let foreign: HostContainer[];
  try {
    ({ foreign } = checkRestartIsSafe(opts.containers, {
      isOurs: opts.isOurs ?? NOTHING_IS_OURS,
      consent: opts.consent ?? false,
      why: `it did not take the restored default runtime on SIGHUP within ${Math.round((opts.reloadTimeoutMs ?? 20_000) / 1000)}s`,
      source: opts.source,
    }));
  } catch (err) {
    // Leave the host as it was (shim registered, shim present) rather than half undone.
    await writeDaemonJson(paths.daemonJson, current);
    log(`put ${paths.daemonJson} back as it was; the shim stays installed`);
    throw err;
  }
  await writeDaemonJson(paths.daemonJson, next);
  if (foreign.length) log(`restarting Docker with ${foreign.length} container(s) not volcert's running (--yes)`);
  await dockerd.restart(pid, pidFile, paths, log);
  log(`restored ${described} in ${paths.daemonJson}; dockerd restarted`);
}

/** Fails before changing anything when the files cannot be written (not root). */
async function checkWritable(paths: DockerHostPaths): Promise<void> {
  const dirs = [dirname(paths.daemonJson), dirname(paths.shim), dirname(paths.shimRecord)];
  for (const dir of new Set(dirs)) {
    if (!existsSync(dir)) continue;
    try {
      await access(dir, constants.W_OK);
    } catch {
      throw new InfraError(`volcert cannot write ${dir}`, {
        fix: "run it as root: sudo npm run volcert -- docker unshim",
      });
    }
  }
}
