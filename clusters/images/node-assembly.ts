/**
 * The steps of assembling a node image in a throwaway privileged container (node-image.ts,
 * node-preload.ts): start it from an image with its entrypoint replaced, run containerd in it,
 * import host images into containerd's k8s.io namespace, stop containerd, commit.
 */
import { randomBytes } from "node:crypto";
import { InfraError } from "../../harness/core/errors.ts";
import { unstoppable } from "../../harness/core/abort.ts";
import { exec, execPipeline } from "../../harness/core/exec.ts";
import { waitFor } from "../../harness/core/wait.ts";
import { LABEL_KEY, LABEL_MANAGED } from "./docker-images.ts";
import { OWNER_LABEL, ownerLabel, ROLE_LABEL } from "./owner.ts";

export interface Assembly {
  name: string;
  log: { logFile: string };
  run(args: string[], input?: string): Promise<unknown>;
}

/** Runs `fn` in a privileged container of `from` (entrypoint replaced by sleep), removed afterwards. */
export async function withAssembly(from: string, logFile: string, fn: (a: Assembly) => Promise<void>): Promise<void> {
  const name = `volcert-assemble-${randomBytes(4).toString("hex")}`;
  const log = { logFile };
  const a: Assembly = {
    name,
    log,
    run: (args, input) =>
      exec("docker", ["exec", ...(input === undefined ? [] : ["-i"]), name, ...args], {
        ...log,
        ...(input === undefined ? {} : { input }),
      }),
  };
  await exec(
    "docker",
    [
      "run",
      "-d",
      "--name",
      name,
      "--privileged",
      "--label",
      `${ROLE_LABEL}=assemble`,
      "--label",
      `${OWNER_LABEL}=${ownerLabel()}`,
      "--entrypoint",
      "sleep",
      from,
      "infinity",
    ],
    log,
  );
  try {
    await fn(a);
  } finally {
    // Also when the build was stopped (Ctrl-C): the privileged container must not outlive it.
    await unstoppable(() => exec("docker", ["rm", "-f", "-v", name], { nothrow: true }));
  }
}

export async function startContainerd(a: Assembly): Promise<void> {
  await exec("docker", ["exec", "-d", a.name, "containerd"], a.log);
  await waitFor(
    "containerd in the assembly container",
    async () => {
      const r = await exec("docker", ["exec", a.name, "ctr", "version"], { nothrow: true });
      return { done: r.ok, seen: r.ok ? "answering" : (r.stderr.trim().split("\n").pop() ?? "") };
    },
    { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
  );
}

/** Imports host images into the k8s.io namespace; returns the name each got there (docker.io/ prefixed or not). */
export async function importImages(a: Assembly, images: readonly string[]): Promise<(image: string) => string> {
  await execPipeline(
    'name="$1"; shift; docker save "$@" | docker exec -i "$name" ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests -',
    [a.name, ...images],
    { ...a.log, timeoutMs: 30 * 60_000 },
  );
  const listed = await exec("docker", ["exec", a.name, "ctr", "--namespace=k8s.io", "images", "ls", "-q"], a.log);
  const have = new Set(listed.stdout.split("\n").map((l) => l.trim()));
  const missing = images.filter((i) => !have.has(i) && !have.has(`docker.io/${i}`));
  if (missing.length)
    throw new InfraError(`images missing from the node's containerd after import: ${missing.join(", ")}`);
  return (image) => (have.has(image) ? image : `docker.io/${image}`);
}

export async function stopContainerd(a: Assembly): Promise<void> {
  await exec("docker", ["exec", a.name, "pkill", "-x", "containerd"], a.log);
  await waitFor(
    "containerd in the assembly container to stop",
    async () => {
      const r = await exec("docker", ["exec", a.name, "pgrep", "-x", "containerd"], { nothrow: true });
      return { done: !r.ok, seen: r.ok ? `still running (pid ${r.stdout.trim()})` : "stopped" };
    },
    { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
  );
}

/** Commits the assembly as a node image, with the volcert labels and `extraLabels`. */
export async function commitNode(
  a: Assembly,
  image: string,
  key: string,
  extraLabels: Record<string, string> = {},
): Promise<void> {
  const extra = Object.entries(extraLabels)
    .map(([k, v]) => ` ${k}=${v}`)
    .join("");
  await exec(
    "docker",
    [
      "commit",
      "--change",
      'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
      "--change",
      "CMD []",
      "--change",
      // `docker commit` keeps the assembly container's own labels: overwritten, so the node
      // containers made from this image do not look like leftover assembly containers.
      `LABEL ${LABEL_MANAGED}=true ${LABEL_KEY}=${key} ${ROLE_LABEL}=node-image ${OWNER_LABEL}=none${extra}`,
      a.name,
      image,
    ],
    a.log,
  );
}
