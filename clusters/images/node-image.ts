/**
 * Assembles the kind node image by hand: start the node base, copy in kubeadm/kubelet/kubectl,
 * write /kind/version and the pod network manifest, import every image into containerd's k8s.io
 * namespace, and commit. (`kind build node-image` cannot be used: it fetches images from
 * registries, and its readiness probe needs a newer ctr than Debian's.) The same assembly makes
 * the node image variant with the reference drivers' images already in containerd
 * (preloadNodeImage): a run of those drivers then has nothing to `kind load` into each cluster.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { InfraError } from "../../harness/core/errors.ts";
import { unstoppable } from "../../harness/core/abort.ts";
import { exec, execPipeline } from "../../harness/core/exec.ts";
import { waitFor } from "../../harness/core/wait.ts";
import { LABEL_KEY, LABEL_MANAGED } from "./docker-images.ts";
import { OWNER_LABEL, ownerLabel, ROLE_LABEL } from "./owner.ts";
import { imageNames, inNodeAliases, preloadedImages, type Manifest } from "./manifest.ts";
import { netdManifest } from "./netd-manifest.ts";

export interface AssembleSpec {
  manifest: Manifest;
  key: string;
  binDir: string;
  logFile: string;
}

export async function assembleNodeImage(spec: AssembleSpec): Promise<void> {
  const names = imageNames(spec.manifest);
  await withAssembly(names.nodeBase, spec.logFile, async (a) => {
    for (const bin of ["kubeadm", "kubelet", "kubectl"]) {
      await exec("docker", ["cp", join(spec.binDir, bin), `${a.name}:/usr/bin/${bin}`], a.log);
      await a.run(["chown", "root:root", `/usr/bin/${bin}`]);
      await a.run(["chmod", "0755", `/usr/bin/${bin}`]);
    }
    // kind reads the Kubernetes version from this file: exactly one line, no newline.
    await a.run(["sh", "-c", "mkdir -p /kind/manifests && cat > /kind/version"], spec.manifest.kubernetes.version);
    await a.run(["sh", "-c", "cat > /kind/manifests/default-cni.yaml"], netdManifest(names.netd));

    await startContainerd(a);
    const ref = await importImages(a, preloadedImages(spec.manifest));
    // The names kubeadm and containerd's sandbox_image look up exist here only, never on the host.
    for (const { local, upstream } of inNodeAliases(spec.manifest))
      await a.run(["ctr", "--namespace=k8s.io", "images", "tag", "--force", ref(local), upstream]);
    // kube-controller-manager's PV recycler pod image, served by our Debian workload image.
    await a.run([
      "ctr",
      "--namespace=k8s.io",
      "images",
      "tag",
      "--force",
      ref(names.workload),
      spec.manifest.recyclerImage,
    ]);
    await stopContainerd(a);
    await commitNode(a, names.node, spec.key);
  });
}

export interface PreloadSpec {
  /** The node image to start from, and the variant to commit. */
  from: string;
  image: string;
  /** Host images to add to the node's containerd, as `kind load` would. */
  images: readonly string[];
  key: string;
  logFile: string;
}

/**
 * A node image with `images` already in containerd's k8s.io namespace. `kind load` compares each
 * image's ID with what every node has and skips those present, so a cluster made from the variant
 * loads nothing for these images, and a vendor's image of the same name but another build (another
 * ID) is still loaded over it. Each node's /var (where containerd keeps them) is a Docker volume
 * filled from the image once per node, a copy of the layers the variant adds: cheaper than saving
 * every image again and importing it into each node of each cluster.
 */
export async function preloadNodeImage(spec: PreloadSpec): Promise<void> {
  await withAssembly(spec.from, spec.logFile, async (a) => {
    await startContainerd(a);
    await importImages(a, spec.images);
    await stopContainerd(a);
    await commitNode(a, spec.image, spec.key);
  });
}

interface Assembly {
  name: string;
  log: { logFile: string };
  run(args: string[], input?: string): Promise<unknown>;
}

/** Runs `fn` in a privileged container of `from` (entrypoint replaced by sleep), removed afterwards. */
async function withAssembly(from: string, logFile: string, fn: (a: Assembly) => Promise<void>): Promise<void> {
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

async function startContainerd(a: Assembly): Promise<void> {
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
async function importImages(a: Assembly, images: readonly string[]): Promise<(image: string) => string> {
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

async function stopContainerd(a: Assembly): Promise<void> {
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

async function commitNode(a: Assembly, image: string, key: string): Promise<void> {
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
      `LABEL ${LABEL_MANAGED}=true ${LABEL_KEY}=${key} ${ROLE_LABEL}=node-image ${OWNER_LABEL}=none`,
      a.name,
      image,
    ],
    a.log,
  );
}
