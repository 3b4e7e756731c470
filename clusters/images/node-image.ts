/**
 * Assembles the kind node image by hand: start the node base, copy in kubeadm/kubelet/kubectl,
 * write /kind/version and the pod network manifest, import every image into containerd's k8s.io
 * namespace, and commit. (`kind build node-image` cannot be used: it fetches images from
 * registries, and its readiness probe needs a newer ctr than Debian's.)
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
  const images = preloadedImages(spec.manifest);
  const name = `volcert-assemble-${randomBytes(4).toString("hex")}`;
  const log = { logFile: spec.logFile };
  const inNode = (args: string[], input?: string) =>
    exec("docker", ["exec", ...(input === undefined ? [] : ["-i"]), name, ...args], {
      ...log,
      ...(input === undefined ? {} : { input }),
    });

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
      names.nodeBase,
      "infinity",
    ],
    log,
  );
  try {
    for (const bin of ["kubeadm", "kubelet", "kubectl"]) {
      await exec("docker", ["cp", join(spec.binDir, bin), `${name}:/usr/bin/${bin}`], log);
      await inNode(["chown", "root:root", `/usr/bin/${bin}`]);
      await inNode(["chmod", "0755", `/usr/bin/${bin}`]);
    }
    // kind reads the Kubernetes version from this file: exactly one line, no newline.
    await inNode(["sh", "-c", "mkdir -p /kind/manifests && cat > /kind/version"], spec.manifest.kubernetes.version);
    await inNode(["sh", "-c", "cat > /kind/manifests/default-cni.yaml"], netdManifest(names.netd));

    await exec("docker", ["exec", "-d", name, "containerd"], log);
    await waitFor(
      "containerd in the assembly container",
      async () => {
        const r = await exec("docker", ["exec", name, "ctr", "version"], { nothrow: true });
        return { done: r.ok, seen: r.ok ? "answering" : (r.stderr.trim().split("\n").pop() ?? "") };
      },
      { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
    );
    await execPipeline(
      'name="$1"; shift; docker save "$@" | docker exec -i "$name" ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests -',
      [name, ...images],
      { ...log, timeoutMs: 30 * 60_000 },
    );
    const listed = await exec("docker", ["exec", name, "ctr", "--namespace=k8s.io", "images", "ls", "-q"], log);
    const have = new Set(listed.stdout.split("\n").map((l) => l.trim()));
    const missing = images.filter((i) => !have.has(i) && !have.has(`docker.io/${i}`));
    if (missing.length)
      throw new InfraError(`images missing from the node's containerd after import: ${missing.join(", ")}`);
    const ref = (image: string) => (have.has(image) ? image : `docker.io/${image}`);
    // The names kubeadm and containerd's sandbox_image look up exist here only, never on the host.
    for (const { local, upstream } of inNodeAliases(spec.manifest))
      await inNode(["ctr", "--namespace=k8s.io", "images", "tag", "--force", ref(local), upstream]);
    // kube-controller-manager's PV recycler pod image, served by our Debian workload image.
    await inNode([
      "ctr",
      "--namespace=k8s.io",
      "images",
      "tag",
      "--force",
      ref(names.workload),
      spec.manifest.recyclerImage,
    ]);

    await exec("docker", ["exec", name, "pkill", "-x", "containerd"], log);
    await waitFor(
      "containerd in the assembly container to stop",
      async () => {
        const r = await exec("docker", ["exec", name, "pgrep", "-x", "containerd"], { nothrow: true });
        return { done: !r.ok, seen: r.ok ? `still running (pid ${r.stdout.trim()})` : "stopped" };
      },
      { timeoutMs: 60_000, intervalMs: 500, blame: "infrastructure" },
    );
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
        `LABEL ${LABEL_MANAGED}=true ${LABEL_KEY}=${spec.key} ${ROLE_LABEL}=node-image ${OWNER_LABEL}=none`,
        name,
        names.node,
      ],
      log,
    );
  } finally {
    // Also when the build was stopped (Ctrl-C): the privileged container must not outlive it.
    await unstoppable(() => exec("docker", ["rm", "-f", "-v", name], { nothrow: true }));
  }
}
