/**
 * Assembles the kind node image by hand: start the node base, copy in kubeadm/kubelet/kubectl,
 * write /kind/version and the pod network manifest, import every image into containerd's k8s.io
 * namespace, and commit. (`kind build node-image` cannot be used: it fetches images from
 * registries, and its readiness probe needs a newer ctr than Debian's.) The assembly container's
 * steps are shared with the drivers' variant (node-preload.ts) in node-assembly.ts.
 */
import { join } from "node:path";
import { exec } from "../../harness/core/exec.ts";
import { commitNode, importImages, startContainerd, stopContainerd, withAssembly } from "./node-assembly.ts";
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
