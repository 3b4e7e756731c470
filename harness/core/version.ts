/**
 * volcert's own version: package.json's version and, in a git checkout, the commit (read from
 * .git directly: no process is started for it). Recorded in summary.json, the report and
 * `volcert --version`, so every verdict names the tool that made it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface VolcertVersion {
  version: string;
  /** Full commit hash, or "unknown" outside a git checkout. */
  commit: string;
}

function gitCommit(): string {
  try {
    const head = readFileSync(join(ROOT, ".git", "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    const loose = join(ROOT, ".git", ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    const packed = readFileSync(join(ROOT, ".git", "packed-refs"), "utf8");
    return (
      packed
        .split("\n")
        .find((l) => l.endsWith(` ${ref}`))
        ?.split(" ")[0] ?? "unknown"
    );
  } catch {
    return "unknown";
  }
}

let cached: VolcertVersion | undefined;

export function volcertVersion(): VolcertVersion {
  cached ??= {
    version: (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    commit: gitCommit(),
  };
  return cached;
}

/** "0.1.0 (commit 9df4efb)" */
export function versionLine(): string {
  const v = volcertVersion();
  return `${v.version} (commit ${v.commit === "unknown" ? "unknown" : v.commit.slice(0, 12)})`;
}
