import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { InfraError } from "../../harness/core/errors.ts";
import {
  clusterStateDir,
  createdWithSharedStorage,
  devNumbers,
  filesUnder,
  loopsBackedBy,
  mountsUnder,
  parseLoopList,
  removeClusterState,
  sharedStorageDir,
  type StateRemovalDeps,
} from "./state.ts";

describe("loop devices backed by the shared storage", () => {
  test("losetup's raw list is read as device, backing inode and backing device numbers", () => {
    // `losetup --list --raw --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN` (util-linux 2.38).
    const text = "/dev/loop0 1835050 254:1\n/dev/loop3 12 0:45\n\n";
    expect(parseLoopList(text)).toEqual([
      { device: "/dev/loop0", inode: 1835050n, major: 254, minor: 1 },
      { device: "/dev/loop3", inode: 12n, major: 0, minor: 45 },
    ]);
  });

  test("st_dev is decoded as glibc's major() and minor() do", () => {
    expect(devNumbers(2049n)).toEqual({ major: 8, minor: 1 });
    expect(devNumbers(66307n)).toEqual({ major: 259, minor: 3 });
    expect(devNumbers(45n)).toEqual({ major: 0, minor: 45 });
    // Minor numbers above 255 are split around the major number.
    expect(devNumbers(1048876n)).toEqual({ major: 1, minor: 300 });
  });

  test("only devices whose backing file is one of the files, by device and inode", () => {
    const files = [{ dev: 65025n, ino: 77n }]; // 254:1
    const loops = parseLoopList("/dev/loop0 77 254:1\n/dev/loop1 77 254:2\n/dev/loop2 78 254:1\n");
    expect(loopsBackedBy(loops, files)).toEqual(["/dev/loop0"]);
  });

  test("mount points at or below a directory, with mountinfo's octal escapes decoded", () => {
    const mountinfo = [
      "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw",
      "90 22 0:50 / /root/.cache/volcert/clusters/volcert-a/shared-storage/x rw - tmpfs tmpfs rw",
      "91 22 0:51 / /root/.cache/volcert/clusters/volcert-a\\040b rw - tmpfs tmpfs rw",
      "92 22 0:52 / /root/.cache/volcert/clusters/volcert-ab rw - tmpfs tmpfs rw",
    ].join("\n");
    expect(mountsUnder("/root/.cache/volcert/clusters/volcert-a", mountinfo)).toEqual([
      "/root/.cache/volcert/clusters/volcert-a/shared-storage/x",
    ]);
    expect(mountsUnder("/root/.cache/volcert/clusters/volcert-a b/", mountinfo)).toEqual([
      "/root/.cache/volcert/clusters/volcert-a b",
    ]);
  });
});

describe("removing a cluster's state with its shared storage", () => {
  let cache: string;
  let before: string | undefined;
  beforeEach(() => {
    before = process.env["VOLCERT_CACHE"];
    cache = mkdtempSync(join(tmpdir(), "volcert-state-"));
    process.env["VOLCERT_CACHE"] = cache;
  });
  afterEach(() => {
    if (before === undefined) delete process.env["VOLCERT_CACHE"];
    else process.env["VOLCERT_CACHE"] = before;
    rmSync(cache, { recursive: true, force: true });
  });

  /** A shared storage with one volume image, and a file of the same machine outside it. */
  function layout() {
    const volume = join(sharedStorageDir("volcert-a"), "csi-netstore", "volumes", "pvc-1");
    mkdirSync(volume, { recursive: true });
    const image = join(volume, "disk.img");
    writeFileSync(image, "image");
    writeFileSync(join(clusterStateDir("volcert-a"), "kubeconfig"), "k");
    const outside = join(cache, "someone-elses.img");
    writeFileSync(outside, "not ours");
    const line = (device: string, file: string) => {
      const st = statSync(file, { bigint: true });
      const { major, minor } = devNumbers(st.dev);
      return `${device} ${st.ino} ${major}:${minor}`;
    };
    return { image, outside, loops: `${line("/dev/loop4", image)}\n${line("/dev/loop5", outside)}\n` };
  }

  function deps(loops: string, mountinfo = ""): StateRemovalDeps & { detached: string[] } {
    const detached: string[] = [];
    return {
      detached,
      listLoops: async () => loops,
      detach: async (d) => {
        detached.push(d);
      },
      mountinfo: () => mountinfo,
    };
  }

  test("devices backed by its files are detached first, nothing else; then the directory goes", async () => {
    const { image, outside, loops } = layout();
    expect(filesUnder(sharedStorageDir("volcert-a"))).toHaveLength(1);
    const d = deps(loops);
    expect(await removeClusterState("volcert-a", d)).toEqual(["/dev/loop4"]);
    expect(d.detached).toEqual(["/dev/loop4"]);
    expect(existsSync(image)).toBe(false);
    expect(existsSync(clusterStateDir("volcert-a"))).toBe(false);
    expect(existsSync(outside)).toBe(true);
  });

  test("a cluster without shared storage: losetup is not even asked", async () => {
    mkdirSync(clusterStateDir("volcert-b"), { recursive: true });
    const d = deps("");
    d.listLoops = () => Promise.reject(new Error("not called"));
    expect(await removeClusterState("volcert-b", d)).toEqual([]);
    expect(existsSync(clusterStateDir("volcert-b"))).toBe(false);
    expect(await removeClusterState("volcert-never-existed", d)).toEqual([]);
  });

  test("a reused cluster has shared storage only if it was created with it", () => {
    const created = (shape: object) =>
      writeFileSync(join(clusterStateDir("volcert-c"), "created.json"), JSON.stringify({ shape }));
    mkdirSync(clusterStateDir("volcert-c"), { recursive: true });
    expect(createdWithSharedStorage("volcert-c")).toBe(false);
    created({ name: "volcert-c", sharedStorage: true });
    expect(createdWithSharedStorage("volcert-c")).toBe(false); // no directory to mount
    mkdirSync(sharedStorageDir("volcert-c"));
    expect(createdWithSharedStorage("volcert-c")).toBe(true);
    created({ name: "volcert-c", sharedStorage: false });
    expect(createdWithSharedStorage("volcert-c")).toBe(false);
    writeFileSync(join(clusterStateDir("volcert-c"), "created.json"), "{not json");
    expect(createdWithSharedStorage("volcert-c")).toBe(false);
  });

  test("with a filesystem mounted below it, nothing is detached or removed", async () => {
    const { image, loops } = layout();
    const mountinfo = `90 22 0:50 / ${sharedStorageDir("volcert-a")}/csi-netstore rw - tmpfs tmpfs rw\n`;
    const d = deps(loops, mountinfo);
    await expect(removeClusterState("volcert-a", d)).rejects.toThrow(InfraError);
    expect(d.detached).toEqual([]);
    expect(existsSync(image)).toBe(true);
  });
});
