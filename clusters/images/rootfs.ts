/**
 * Debian root filesystems made with debootstrap from Debian's archive, turned into Docker images
 * with `docker import` (no registry, no Dockerfile frontend). Downloaded .debs are cached, so a
 * rebuild only re-runs the unpacking.
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { InfraError } from "../../harness/core/errors.ts";
import { exec, execPipeline } from "../../harness/core/exec.ts";
import { cachePaths } from "./cache.ts";

export interface RootfsSpec {
  suite: string;
  mirror: string;
  packages: readonly string[];
  targetDir: string;
  logFile: string;
}

/** Package sets: what each image needs at run time, nothing more. */
export const PACKAGES = {
  /** Kubernetes node: systemd as init, containerd + runc + CNI plugins from Debian, tools kubelet and storage need. */
  node: [
    "systemd",
    "systemd-sysv",
    "dbus",
    "iproute2",
    "iptables",
    "nftables",
    "conntrack",
    "ethtool",
    "kmod",
    "util-linux",
    "mount",
    "e2fsprogs",
    "xfsprogs",
    "procps",
    "libseccomp2",
    "ca-certificates",
    "pigz",
    "containerd",
    "runc",
    "containernetworking-plugins",
    "socat",
    "lsof",
  ],
  /** Base of the component images (control plane, kube-proxy, netd, CSI). */
  runtime: [
    "ca-certificates",
    "iproute2",
    "iptables",
    "nftables",
    "conntrack",
    "ipset",
    "kmod",
    "util-linux",
    "mount",
    "e2fsprogs",
    "xfsprogs",
    "procps",
  ],
  /** Test workload: data checks, filesystems, I/O. */
  workload: ["coreutils", "util-linux", "mount", "e2fsprogs", "xfsprogs", "fio", "procps", "findutils"],
} as const;

export async function ensureDebootstrap(): Promise<void> {
  if (existsSync("/usr/sbin/debootstrap")) return;
  if (process.getuid?.() !== 0 || !existsSync("/etc/debian_version")) {
    throw new InfraError("debootstrap is needed to build images from Debian's archive but is not installed", {
      fix: "install debootstrap (apt-get install debootstrap) and run the build as root",
    });
  }
  await exec("apt-get", ["install", "-y", "--no-install-recommends", "debootstrap"], {
    env: { DEBIAN_FRONTEND: "noninteractive" },
    timeoutMs: 10 * 60_000,
  });
}

export async function debootstrap(spec: RootfsSpec): Promise<void> {
  await rm(spec.targetDir, { recursive: true, force: true });
  await mkdir(spec.targetDir, { recursive: true });
  await mkdir(cachePaths.debs(), { recursive: true });
  await exec(
    "debootstrap",
    [
      "--variant=minbase",
      `--include=${spec.packages.join(",")}`,
      `--cache-dir=${cachePaths.debs()}`,
      spec.suite,
      spec.targetDir,
      spec.mirror,
    ],
    { timeoutMs: 45 * 60_000, logFile: spec.logFile },
  );
}

/** Shrinks a rootfs: package lists, caches, docs and man pages are not needed at run time. */
export async function trimRootfs(dir: string, logFile: string): Promise<void> {
  await execPipeline(
    'cd "$1" && rm -rf var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/locale/* var/log/*',
    [dir],
    { logFile },
  );
}

export interface ImportSpec {
  dir: string;
  image: string;
  /** Dockerfile-style instructions applied on import (ENV, ENTRYPOINT, LABEL, ...). */
  changes: readonly string[];
  logFile: string;
}

/**
 * tar the rootfs (numeric owners, no pseudo filesystems) and `docker import` it. The tree is
 * deleted afterwards: the image is the cached output, and the tree would double the disk use.
 */
export async function importRootfs(spec: ImportSpec): Promise<void> {
  const changeArgs = spec.changes.flatMap((c) => ["--change", c]);
  await execPipeline(
    'dir="$1"; image="$2"; shift 2; tar -C "$dir" --numeric-owner --xattrs --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -cf - . | docker import "$@" - "$image" >/dev/null',
    [spec.dir, spec.image, ...changeArgs],
    { timeoutMs: 20 * 60_000, logFile: spec.logFile },
  );
  await rm(spec.dir, { recursive: true, force: true });
}
