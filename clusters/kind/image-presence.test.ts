import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { criName, imagesToLoad } from "./image-presence.ts";

const recorded = readFileSync(
  new URL("../../fixtures/recorded/crictl-images-node-drivers-worker.json", import.meta.url),
  "utf8",
);
// The host's IDs of these images when the recording was made (docker image inspect).
const HOSTPATH = "volcert/csi-hostpath:0.1.0";
const HOSTPATH_ID = "sha256:31882f737b3cf173f45dab4caa3f3d2ba258293be73b323f097b9314fbe0f0e1";
const NETSTORE = "volcert/csi-netstore:0.1.0";
const NETSTORE_ID = "sha256:67a010a353713bc9a041e11c5a40d52070b1f4abcd3ff68f4dcd4f6e99759fe3";

describe("images already in a cluster's nodes", () => {
  test("names as containerd's CRI lists them", () => {
    expect(criName("volcert/csi-hostpath:0.1.0")).toBe("docker.io/volcert/csi-hostpath:0.1.0");
    expect(criName("busybox")).toBe("docker.io/library/busybox:latest");
    expect(criName("registry.k8s.io/sig-storage/csi-attacher:v4.12.0")).toBe(
      "registry.k8s.io/sig-storage/csi-attacher:v4.12.0",
    );
    expect(criName("localhost:5000/driver")).toBe("localhost:5000/driver:latest");
    expect(criName("localhost/driver:1")).toBe("localhost/driver:1");
  });

  test("an image every node has under its name and the host's ID is not loaded again", () => {
    const load = imagesToLoad([HOSTPATH, NETSTORE], [HOSTPATH_ID, NETSTORE_ID], [recorded, recorded, recorded]);
    expect(load).toEqual([]);
  });

  test("another build under the same name, a node without it, or a node that did not answer: loaded", () => {
    const rebuilt = `sha256:${"0".repeat(64)}`;
    expect(imagesToLoad([HOSTPATH, NETSTORE], [rebuilt, NETSTORE_ID], [recorded, recorded])).toEqual([HOSTPATH]);
    const empty = JSON.stringify({ images: [] });
    expect(imagesToLoad([HOSTPATH], [HOSTPATH_ID], [recorded, empty])).toEqual([HOSTPATH]);
    expect(imagesToLoad([HOSTPATH], [HOSTPATH_ID], [recorded, null])).toEqual([HOSTPATH]);
    expect(imagesToLoad([HOSTPATH], [HOSTPATH_ID], [recorded, "not json"])).toEqual([HOSTPATH]);
    // No nodes listed, an unknown host ID, a digest reference: kind decides.
    expect(imagesToLoad([HOSTPATH], [HOSTPATH_ID], [])).toEqual([HOSTPATH]);
    expect(imagesToLoad([HOSTPATH], [], [recorded])).toEqual([HOSTPATH]);
    expect(imagesToLoad([`${HOSTPATH}@${HOSTPATH_ID}`], [HOSTPATH_ID], [recorded])).toEqual([
      `${HOSTPATH}@${HOSTPATH_ID}`,
    ]);
  });

  test("the same ID under another name is loaded (kind re-tags it)", () => {
    expect(imagesToLoad(["volcert/vendor-csi:1"], [HOSTPATH_ID], [recorded])).toEqual(["volcert/vendor-csi:1"]);
  });
});
