import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkCacheBinaries, ensurePrivateCacheRoot } from "./cache-safety.ts";

const uid = process.getuid?.() ?? 0;

describe("volcert's cache", () => {
  test("is created 0700 (parents as usual)", () => {
    const root = join(mkdtempSync(join(tmpdir(), "volcert-cache-")), "home/.cache/volcert");
    ensurePrivateCacheRoot(root, uid);
    expect(statSync(root).mode & 0o777).toBe(0o700);
  });

  test("an existing root is kept as it is when only its owner can write it", () => {
    const root = mkdtempSync(join(tmpdir(), "volcert-cache-"));
    chmodSync(root, 0o755);
    expect(() => ensurePrivateCacheRoot(root, uid)).not.toThrow();
  });

  test("a root group or others can write is refused with the fix", () => {
    const root = mkdtempSync(join(tmpdir(), "volcert-cache-"));
    chmodSync(root, 0o775);
    expect(() => ensurePrivateCacheRoot(root, uid)).toThrow(/writable by group \(mode 0775\)/);
    expect(() => ensurePrivateCacheRoot(root, uid)).toThrow(
      expect.objectContaining({ category: "config", fix: expect.stringContaining(`chmod go-w ${root}`) }),
    );
  });

  test("a root that belongs to another user is refused", () => {
    const root = mkdtempSync(join(tmpdir(), "volcert-cache-"));
    expect(() => ensurePrivateCacheRoot(root, uid + 1)).toThrow(/belongs to uid \d+, not to you/);
  });

  test("binaries: every directory from the root down and the file itself are checked; missing ones skipped", () => {
    const root = mkdtempSync(join(tmpdir(), "volcert-cache-"));
    const dir = join(root, "out", "go-kind", "0123456789abcdef");
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, "kind"), "", { mode: 0o755 });
    const bins = [join(dir, "kind"), join(root, "out", "go-helm", "fedcba", "helm")];
    expect(() => checkCacheBinaries(root, bins, uid)).not.toThrow();
    chmodSync(join(root, "out", "go-kind"), 0o777);
    chmodSync(join(dir, "kind"), 0o775);
    expect(() => checkCacheBinaries(root, bins, uid)).toThrow(
      /go-kind is writable by group and others \(mode 0777\)[\s\S]*kind is writable by group \(mode 0775\)/,
    );
  });
});
