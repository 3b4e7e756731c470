/**
 * Data checks: a seeded, reproducible byte pattern written inside a pod, with its SHA-256, so a
 * later read (same pod, another pod, another node) can be compared byte for byte. The seed is
 * recorded by the caller (report parameter) so a failure can be reproduced.
 */
import { createHash, randomBytes } from "node:crypto";

export interface Pattern {
  seed: string;
  sizeBytes: number;
}

export function newPattern(sizeBytes = 1024 * 1024): Pattern {
  return { seed: randomBytes(8).toString("hex"), sizeBytes };
}

/**
 * Shell that writes the pattern to `file` and prints its sha256. The pattern is the seed-numbered
 * line stream "<seed>:<n>\n", cut to size: deterministic from the seed alone, and different
 * between seeds, so stale data from an earlier test can never match.
 */
export function writeScript(p: Pattern, file: string): string[] {
  return [
    "sh",
    "-ec",
    `seq 1 ${p.sizeBytes} | sed "s/^/${p.seed}:/" | head -c ${p.sizeBytes} > "$1" && sync "$1" && sha256sum "$1" | cut -d' ' -f1`,
    "write-pattern",
    file,
  ];
}

/**
 * The pattern written to a raw block device with direct I/O, then the first MiB read back and
 * checksummed (the pattern must be 1 MiB for the checksum to compare with expectedChecksum).
 */
export function blockWriteScript(p: Pattern, device: string): string[] {
  return [
    "sh",
    "-ec",
    `seq 1 ${p.sizeBytes} | sed "s/^/${p.seed}:/" | head -c ${p.sizeBytes} | dd of="$1" bs=1M oflag=direct iflag=fullblock 2>/dev/null && dd if="$1" bs=1M count=1 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1`,
    "write-block-pattern",
    device,
  ];
}

/** The checksum of a raw device's first MiB, read with direct I/O (what blockWriteScript wrote there). */
export function blockReadChecksumScript(device: string): string[] {
  return [
    "sh",
    "-ec",
    `dd if="$1" bs=1M count=1 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1`,
    "read-block-checksum",
    device,
  ];
}

export function readChecksumScript(file: string): string[] {
  return ["sh", "-ec", `sha256sum "$1" | cut -d' ' -f1`, "read-checksum", file];
}

/** The expected checksum, computed locally from the seed (no trust in what the pod reported). */
export async function expectedChecksum(p: Pattern): Promise<string> {
  const h = createHash("sha256");
  let written = 0;
  for (let n = 1; written < p.sizeBytes; n++) {
    const line = Buffer.from(`${p.seed}:${n}\n`);
    const take = Math.min(line.length, p.sizeBytes - written);
    h.update(take === line.length ? line : line.subarray(0, take));
    written += take;
  }
  return h.digest("hex");
}

/** A program written into a volume and run from it (the `exec` capability): its path, what writes it, what it prints. */
export const EXEC_PROBE = {
  path: "/data/run.sh",
  write: ["sh", "-ec", 'printf "#!/bin/sh\\necho volcert-exec-ok\\n" > /data/run.sh && chmod +x /data/run.sh'],
  marker: "volcert-exec-ok",
} as const;
