/**
 * What a node still holds of a case, read in one command through the node shell: its mount table,
 * the loop devices the kernel has attached, and which of the given paths exist. Each part reports
 * its own exit status, so one probe that fails (no losetup, /proc unreadable) is named and the
 * others still count; a part that is missing from the output is a failure too, never "nothing".
 */
import { createHash } from "node:crypto";
import type { NodeShell } from "../core/nodes.ts";
import { mountsOfPod, parseMountinfo, type Mount } from "./mountinfo.ts";

export const KUBELET_DIR = "/var/lib/kubelet";

export interface LoopDevice {
  device: string;
  file: string;
}

export interface NodeSnapshot {
  mounts?: Mount[];
  loops?: LoopDevice[];
  /** The paths (or entries under the prefixes) that exist. */
  present?: string[];
  /** Probes that could not observe: "losetup: exited 1: ...". */
  failures: { probe: string; error: string }[];
}

const PROBES = ["mountinfo", "losetup", "paths"] as const;

// Arguments: "p:<path>" (does it exist) or "g:<prefix>" (which entries start with it).
const SCRIPT = `echo "@@@ mountinfo"; cat /proc/self/mountinfo; echo "@@@ exit $?"
echo "@@@ losetup"; losetup --list --noheadings --output NAME,BACK-FILE; echo "@@@ exit $?"
echo "@@@ paths"
for a; do
  case $a in
    p:*) [ -e "\${a#p:}" ] && echo "\${a#p:}" ;;
    g:*) for f in "\${a#g:}"*; do [ -e "$f" ] && echo "$f"; done ;;
  esac
done
echo "@@@ exit 0"
echo "@@@ end"`;

/** The argv of the snapshot command: paths to test one by one, and prefixes to list. */
export function nodeSnapshotArgv(paths: readonly string[], prefixes: readonly string[]): string[] {
  return ["sh", "-c", SCRIPT, "sh", ...paths.map((p) => `p:${p}`), ...prefixes.map((p) => `g:${p}`)];
}

/** Parses the snapshot command's output; `stderr` explains a probe that failed. */
export function parseNodeSnapshot(stdout: string, stderr = ""): NodeSnapshot {
  const sections = new Map<string, { lines: string[]; exit?: number }>();
  let current: { lines: string[]; exit?: number } | undefined;
  let ended = false;
  for (const line of stdout.split("\n")) {
    const marker = /^@@@ (\S+)(?: (\d+))?$/.exec(line);
    if (marker) {
      const [, word, code] = marker as unknown as [string, string, string | undefined];
      if (word === "exit" && current) current.exit = Number(code);
      else if (word === "end") ended = true;
      else sections.set(word, (current = { lines: [] }));
      continue;
    }
    if (current && line) current.lines.push(line);
  }
  const snapshot: NodeSnapshot = { failures: [] };
  const why = stderr.trim().split("\n").slice(-3).join("; ");
  for (const probe of PROBES) {
    const s = sections.get(probe);
    if (!s || s.exit === undefined) {
      snapshot.failures.push({ probe, error: `no complete output${ended ? "" : " (the command was cut short)"}` });
      continue;
    }
    if (s.exit !== 0) {
      snapshot.failures.push({ probe, error: `exited ${s.exit}${why ? `: ${why}` : ""}` });
      continue;
    }
    try {
      if (probe === "mountinfo") snapshot.mounts = parseMountinfo(s.lines.join("\n"));
      else if (probe === "losetup") snapshot.loops = parseLoopList(s.lines);
      else snapshot.present = s.lines;
    } catch (err) {
      snapshot.failures.push({ probe, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return snapshot;
}

/** `losetup --list --noheadings --output NAME,BACK-FILE` lines (the file may contain spaces). */
export function parseLoopList(lines: readonly string[]): LoopDevice[] {
  return lines.map((line) => {
    const m = /^(\/dev\/loop\d+)\s+(.*?)\s*$/.exec(line.trim());
    if (!m) throw new Error(`not a losetup line (expected "/dev/loopN backing-file"): ${line}`);
    return { device: m[1] as string, file: m[2] as string };
  });
}

/** One node's snapshot. A shell that cannot run the command at all throws (a CommandError). */
export async function snapshotNode(
  shell: NodeShell,
  node: string,
  paths: readonly string[],
  prefixes: readonly string[],
): Promise<NodeSnapshot> {
  const r = await shell.exec(node, nodeSnapshotArgv(paths, prefixes), { timeoutMs: 30_000 });
  return parseNodeSnapshot(r.stdout, r.stderr);
}

/** A volume of the case, as the node sees it: its PV name, and for CSI the driver and handle. */
export interface VolumeRef {
  pv: string;
  csiDriver?: string;
  volumeHandle?: string;
}

/**
 * The kubelet's CSI staging ("global") mount path of a volume: since Kubernetes 1.25 (and so in
 * the 1.34 kubelet volcert builds) `plugins/kubernetes.io/csi/<driver>/<sha256(volumeHandle)>/globalmount`;
 * older kubelets used `plugins/kubernetes.io/csi/pv/<pv>/globalmount`, still matched by PV name.
 */
export function csiStagingPath(csiDriver: string, volumeHandle: string, kubeletDir = KUBELET_DIR): string {
  const sha = createHash("sha256").update(volumeHandle).digest("hex");
  return `${kubeletDir}/plugins/kubernetes.io/csi/${csiDriver}/${sha}/globalmount`;
}

/**
 * The mounts a case's pods and volumes left: under a pod's kubelet directory; the CSI staging
 * mount of a volume; any mount with the PV's name as a path component (legacy CSI global mounts,
 * raw block staging and publish paths, FlexVolume device mounts, a driver's own per-volume
 * directories); and bind mounts of the volume's handle directory.
 */
export function caseMounts(
  mounts: readonly Mount[],
  podUids: readonly string[],
  volumes: readonly VolumeRef[],
): { mount: Mount; why: string }[] {
  const found = new Map<number, { mount: Mount; why: string }>();
  const add = (m: Mount, why: string) => found.has(m.id) || found.set(m.id, { mount: m, why });
  for (const uid of podUids) for (const m of mountsOfPod(mounts, uid)) add(m, `mount of pod ${uid}`);
  for (const v of volumes) {
    const staging = v.csiDriver && v.volumeHandle ? csiStagingPath(v.csiDriver, v.volumeHandle) : undefined;
    // Short handles ("1") would match unrelated paths; only distinctive ones are looked for.
    const handle = v.volumeHandle && v.volumeHandle.length >= 8 && !v.volumeHandle.includes("/") ? v.volumeHandle : "";
    for (const m of mounts) {
      if (staging && m.mountPoint === staging) add(m, `CSI staging mount of PV ${v.pv}`);
      else if (hasComponent(m.mountPoint, v.pv)) add(m, `mount of PV ${v.pv}`);
      else if (handle && (hasComponent(m.mountPoint, handle) || hasComponent(m.root, handle)))
        add(m, `mount of volume ${handle} (PV ${v.pv})`);
    }
  }
  return [...found.values()];
}

function hasComponent(path: string, name: string): boolean {
  return path.split("/").includes(name);
}
