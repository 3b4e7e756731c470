/**
 * Which images a cluster's nodes already have, so that `kind load` is asked only for the others.
 * kind makes the same check itself, but with a `crictl inspecti` process per image and node (21
 * for the 7 reference driver images on 3 nodes, 7–20 s next to other clusters' work); here it is
 * one `crictl images` per node. An image counts as present only when every node has an image of
 * the host image's ID under its name; anything unclear (a node that does not answer, output that
 * does not parse, a digest reference) counts as absent, and kind loads it.
 */

/** The name containerd's CRI lists a Docker image reference under (docker.io/library/…, :latest). */
export function criName(image: string): string {
  const slash = image.indexOf("/");
  const domain = slash < 0 ? "" : image.slice(0, slash);
  const qualified =
    slash >= 0 && (domain.includes(".") || domain.includes(":") || domain === "localhost")
      ? image
      : `docker.io/${slash < 0 ? "library/" : ""}${image}`;
  return qualified.slice(qualified.lastIndexOf("/")).includes(":") ? qualified : `${qualified}:latest`;
}

/**
 * The images (of `images`, whose host IDs are `ids`, same order) that not every node lists under
 * that ID and name. `nodeLists` holds each node's `crictl images -o json` output, or null for a
 * node that did not answer.
 */
export function imagesToLoad(
  images: readonly string[],
  ids: readonly string[],
  nodeLists: readonly (string | null)[],
): string[] {
  const perNode = nodeLists.map(parseCrictlImages);
  return images.filter((image, n) => {
    const id = ids[n];
    if (!id || image.includes("@") || !perNode.length) return true;
    const name = criName(image);
    return !perNode.every((list) => list?.some((i) => i.id === id && i.repoTags.includes(name)));
  });
}

interface CriImage {
  id: string;
  repoTags: string[];
}

function parseCrictlImages(json: string | null): CriImage[] | null {
  if (json === null) return null;
  try {
    const parsed = JSON.parse(json) as { images?: unknown };
    if (!Array.isArray(parsed.images)) return null;
    return parsed.images.flatMap((i: unknown) => {
      const { id, repoTags } = (i ?? {}) as { id?: unknown; repoTags?: unknown };
      return typeof id === "string" && Array.isArray(repoTags)
        ? [{ id, repoTags: repoTags.filter((t): t is string => typeof t === "string") }]
        : [];
    });
  } catch {
    return null;
  }
}
