/**
 * The node image variant with the reference drivers' images already in containerd (plan step
 * image-node-drivers): a run of those drivers then has nothing to `kind load` into each cluster.
 */
import { exec } from "../../harness/core/exec.ts";
import { hashOf } from "./cache.ts";
import { commitNode, importImages, startContainerd, stopContainerd, withAssembly } from "./node-assembly.ts";

/** Label of the variant: a hash of the image IDs it preloads (preloadedIds). */
export const LABEL_PRELOADED = "io.volcert.preloaded-ids";

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
 * every image again and importing it into each node of each cluster. Imported unpacked, as the
 * node image's own: containerd unpacks an image on a node the first time a container uses it.
 */
export async function preloadNodeImage(spec: PreloadSpec): Promise<void> {
  const ids = await preloadedIds(spec.images);
  await withAssembly(spec.from, spec.logFile, async (a) => {
    await startContainerd(a);
    await importImages(a, spec.images);
    await stopContainerd(a);
    await commitNode(a, spec.image, spec.key, { [LABEL_PRELOADED]: ids ?? "" });
  });
}

/**
 * Whether the variant holds the images the host has under these names now. Its cache key covers
 * how the images are built, not the build: an image rebuilt under the same key (removed and built
 * again, or replaced by `--image-archive`) has another ID, and the variant is rebuilt rather than
 * every cluster loading all of them again.
 */
export async function preloadCurrent(image: string, images: readonly string[]): Promise<boolean> {
  const [ids, r] = await Promise.all([
    preloadedIds(images),
    exec("docker", ["image", "inspect", "--format", `{{ index .Config.Labels "${LABEL_PRELOADED}" }}`, image], {
      nothrow: true,
      timeoutMs: 30_000,
    }),
  ]);
  return ids !== null && r.ok && r.stdout.trim() === ids;
}

/** A hash of the images' IDs, in the order given; null when one is not on the host. */
async function preloadedIds(images: readonly string[]): Promise<string | null> {
  const r = await exec("docker", ["image", "inspect", "--format", "{{.Id}}", ...images], {
    nothrow: true,
    timeoutMs: 30_000,
  });
  const ids = r.stdout.trim().split("\n");
  return r.ok && ids.length === images.length ? hashOf(ids) : null;
}
