/**
 * Linux capability arithmetic for the runtime-shim decision. Docker asks for every capability the
 * kernel knows when it starts a --privileged container; if this process's bounding set lacks one,
 * runc fails with "unable to apply caps: operation not permitted".
 */
export const CAPABILITY_NAMES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Reads `CapBnd:` out of the text of /proc/<pid>/status. */
export function parseCapBnd(procStatus: string): bigint {
  const m = /^CapBnd:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus);
  if (!m?.[1]) throw new Error("no CapBnd line in process status");
  return BigInt(`0x${m[1]}`);
}

/**
 * Capabilities a privileged container would request (0..lastCap, as far as names are known) that
 * the bounding set does not contain.
 */
export function missingCapabilities(capBnd: bigint, lastCap: number): string[] {
  const top = Math.min(lastCap, CAPABILITY_NAMES.length - 1);
  const missing: string[] = [];
  for (let bit = 0; bit <= top; bit++) {
    if ((capBnd & (1n << BigInt(bit))) === 0n) missing.push(CAPABILITY_NAMES[bit] as string);
  }
  return missing;
}
