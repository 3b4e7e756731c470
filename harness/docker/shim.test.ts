import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { renderShimScript, SHIM_RUNTIME_NAME, withShim } from "./shim.ts";

const allCaps = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE"];

function runShim(args: (dir: string) => string[], spec: object, specFile: (dir: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), "volcert-shim-"));
  const fakeRunc = join(dir, "runc");
  writeFileSync(fakeRunc, `#!/bin/sh\necho "runc $*"\n`);
  chmodSync(fakeRunc, 0o755);
  const shim = join(dir, "shim");
  writeFileSync(shim, renderShimScript(["CAP_SYS_RESOURCE"], fakeRunc));
  chmodSync(shim, 0o755);
  writeFileSync(specFile(dir), JSON.stringify(spec));
  const out = execFileSync(shim, args(dir), { encoding: "utf8" });
  return { out, spec: JSON.parse(readFileSync(specFile(dir), "utf8")) };
}

describe("runtime shim script", () => {
  const caps = { bounding: allCaps, effective: allCaps, permitted: allCaps, inheritable: allCaps, ambient: allCaps };

  test("create --bundle: drops the missing capability from config.json and execs runc with the same args", () => {
    const { out, spec } = runShim(
      (d) => ["--root", "/run/x", "create", "--bundle", d, "ctr-id"],
      { ociVersion: "1.0.2", process: { args: ["/sbin/init"], capabilities: caps } },
      (d) => join(d, "config.json"),
    );
    expect(out.trim()).toMatch(/^runc --root \/run\/x create --bundle \S+ ctr-id$/);
    for (const set of Object.values(spec.process.capabilities)) expect(set).toEqual(["CAP_CHOWN", "CAP_SYS_ADMIN"]);
    expect(spec.process.args).toEqual(["/sbin/init"]);
  });

  test("exec --process: edits the process spec file (docker exec into privileged nodes)", () => {
    const { spec } = runShim(
      (d) => ["exec", "--process", join(d, "process.json"), "--detach", "ctr-id"],
      { args: ["bash"], capabilities: caps },
      (d) => join(d, "process.json"),
    );
    expect(spec.capabilities.bounding).toEqual(["CAP_CHOWN", "CAP_SYS_ADMIN"]);
    expect(spec.args).toEqual(["bash"]);
  });

  test("commands without a spec (state, delete) pass straight through", () => {
    const { out } = runShim(
      (d) => ["--root", d, "state", "ctr-id"],
      {},
      (d) => join(d, "unused.json"),
    );
    expect(out).toContain("runc --root");
    expect(out).toContain("state ctr-id");
  });
});

describe("daemon.json merge", () => {
  test("adds the shim as default runtime and keeps other keys", () => {
    const next = withShim(
      { "log-driver": "json-file", runtimes: { other: { path: "/x" } } },
      "/usr/local/libexec/volcert/volcert-runc",
    );
    expect(next).toEqual({
      "log-driver": "json-file",
      runtimes: { other: { path: "/x" }, [SHIM_RUNTIME_NAME]: { path: "/usr/local/libexec/volcert/volcert-runc" } },
      "default-runtime": SHIM_RUNTIME_NAME,
    });
  });

  test("removing the shim restores the file it was added to", () => {
    const before = { "log-driver": "json-file" };
    expect(withShim(withShim(before, "/p"), null)).toEqual(before);
  });

  test("is idempotent", () => {
    const once = withShim({}, "/p");
    expect(withShim(once, "/p")).toEqual(once);
  });
});
