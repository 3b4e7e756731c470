/**
 * Which containers a Docker restart or the shim's removal would hurt, and whether they are
 * volcert's. Read from the engine when it answers, else from dockerd's own files (the bootstrap
 * only restarts a dockerd that does not answer).
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InfraError } from "../core/errors.ts";
import { exec } from "../core/exec.ts";

export interface HostContainer {
  id: string;
  name: string;
  running: boolean;
  /** The OCI runtime it was created with (Docker keeps it per container). */
  runtime: string;
  labels: Record<string, string>;
}

/**
 * Decides whether a container is volcert's. The CLI provides it (the labels that say so belong
 * to the cluster provider and the image toolchain); the default treats every container as foreign.
 */
export type ContainerOwnership = (c: Pick<HostContainer, "name" | "labels">) => boolean;

export const NOTHING_IS_OURS: ContainerOwnership = () => false;

interface InspectView {
  Id: string;
  Name: string;
  State?: { Running?: boolean };
  HostConfig?: { Runtime?: string };
  Config?: { Labels?: Record<string, string> | null };
}

export function fromInspect(view: InspectView): HostContainer {
  return {
    id: view.Id,
    name: view.Name.replace(/^\//, ""),
    running: view.State?.Running === true,
    runtime: view.HostConfig?.Runtime ?? "",
    labels: view.Config?.Labels ?? {},
  };
}

/** Every container (running or not) through the engine; null when it does not answer. */
export async function containersFromEngine(): Promise<HostContainer[] | null> {
  const ids = await exec("docker", ["ps", "--all", "--quiet", "--no-trunc"], { nothrow: true, timeoutMs: 20_000 });
  if (!ids.ok) return null;
  const list = ids.stdout.split("\n").filter(Boolean);
  if (!list.length) return [];
  const r = await exec("docker", ["container", "inspect", ...list], { nothrow: true, timeoutMs: 60_000 });
  // A container removed between the two calls makes inspect exit 1 but still print the others.
  const views = r.stdout.trim() ? (JSON.parse(r.stdout) as InspectView[]) : [];
  return views.map(fromInspect);
}

/**
 * Every container as dockerd last recorded it (`<data-root>/containers/<id>/config.v2.json` and
 * `hostconfig.json`). `running` is what dockerd last wrote: after a crash it may say running for a
 * container that died with it, which only makes the restart check more careful.
 */
export async function containersFromDisk(dataRoot: string): Promise<HostContainer[]> {
  const dir = join(dataRoot, "containers");
  if (!existsSync(dir)) return [];
  const found: HostContainer[] = [];
  for (const id of await readdir(dir)) {
    const config = await readJson<InspectView & { State?: { Running?: boolean } }>(join(dir, id, "config.v2.json"));
    if (!config) continue;
    const host = await readJson<{ Runtime?: string }>(join(dir, id, "hostconfig.json"));
    found.push(fromInspect({ ...config, Id: config.Id ?? id, HostConfig: { Runtime: host?.Runtime ?? "" } }));
  }
  return found;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return null;
  }
}

/** The engine's view when it answers, dockerd's files otherwise. */
export async function hostContainers(dataRoot: string): Promise<{ containers: HostContainer[]; source: string }> {
  const live = await containersFromEngine();
  if (live) return { containers: live, source: "the Docker engine" };
  return {
    containers: await containersFromDisk(dataRoot),
    source: `${dataRoot}/containers (the engine does not answer)`,
  };
}

export function describeContainer(c: HostContainer): string {
  const kind = c.labels["io.x-k8s.kind.cluster"];
  return `${c.name}${kind ? ` (kind cluster ${kind})` : ""}`;
}

/**
 * Refuses to restart Docker while containers volcert did not create are running, unless the user
 * agreed (--yes): a restart stops every container on the host, other people's kind clusters included.
 */
export function checkRestartIsSafe(
  containers: readonly HostContainer[],
  opts: { isOurs: ContainerOwnership; consent: boolean; why: string; source: string },
): { foreign: HostContainer[] } {
  const foreign = containers.filter((c) => c.running && !opts.isOurs(c));
  if (foreign.length && !opts.consent) {
    throw new InfraError(
      `volcert would have to restart Docker (${opts.why}), which stops every container on this host, and ${foreign.length} running container(s) are not volcert's (seen in ${opts.source}):\n` +
        foreign.map((c) => `  - ${describeContainer(c)}`).join("\n"),
      {
        fix: "stop those containers (or ask whoever runs them) and run volcert again, or pass --yes to restart Docker anyway",
      },
    );
  }
  return { foreign };
}
