import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  recordBeforeShim,
  renderShimScript,
  SHIM_RUNTIME_NAME,
  withoutShim,
  withShim,
  type DaemonJson,
} from "./shim.ts";

const allCaps = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE"];

function runShim(args: (dir: string) => string[], spec: object, specFile: (dir: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), "volcert-shim-"));
  const fakeRunc = join(dir, "runc");
  writeFileSync(fakeRunc, `#!/bin/sh\necho "runc $*"\n`);
  chmodSync(fakeRunc, 0o755);
  const shim = join(dir, "shim");
  writeFileSync(shim, renderShimScript(["CAP_SYS_RESOURCE"]));
  chmodSync(shim, 0o755);
  writeFileSync(specFile(dir), JSON.stringify(spec));
  // runc is looked up at each call, PATH first (the fake one here, before any real runc).
  const env = { ...process.env, PATH: `${dir}:${process.env["PATH"] ?? "/usr/bin:/bin"}` };
  const out = execFileSync(shim, args(dir), { encoding: "utf8", env });
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

const recorded = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/recorded", name), "utf8")) as DaemonJson;

describe("daemon.json: installing the shim", () => {
  test("a default runtime set by someone else is recorded, replaced, and every other key kept", () => {
    const nvidia = recorded("daemon-json-nvidia-default.json");
    const current: DaemonJson = {
      ...nvidia,
      "log-driver": "json-file",
      "log-opts": { "max-size": "10m", "max-file": "3" },
      "storage-driver": "overlay2",
      "live-restore": true,
    };
    expect(recordBeforeShim(current, new Date("2025-01-01T00:00:00Z"))).toEqual({
      defaultRuntime: "nvidia",
      recordedAt: "2025-01-01T00:00:00.000Z",
    });
    expect(withShim(current, "/usr/local/libexec/volcert/volcert-runc")).toEqual({
      ...current,
      runtimes: {
        nvidia: { path: "/usr/bin/nvidia-container-runtime", runtimeArgs: [] },
        [SHIM_RUNTIME_NAME]: { path: "/usr/local/libexec/volcert/volcert-runc" },
      },
      "default-runtime": SHIM_RUNTIME_NAME,
    });
  });

  test("no default runtime before: the record says so (dockerd used runc)", () => {
    expect(recordBeforeShim({ "log-driver": "json-file" })?.defaultRuntime).toBeNull();
  });

  test("the shim already the default (an earlier install): nothing new to record", () => {
    expect(recordBeforeShim(recorded("daemon-json-volcert-shim-unrecorded.json"))).toBeNull();
  });

  test("is idempotent", () => {
    const once = withShim({}, "/p");
    expect(withShim(once, "/p")).toEqual(once);
  });
});

describe("daemon.json: removing the shim", () => {
  test("restores the recorded default runtime and keeps every other key", () => {
    const before: DaemonJson = { ...recorded("daemon-json-nvidia-default.json"), "log-driver": "journald" };
    const record = recordBeforeShim(before);
    expect(withoutShim(withShim(before, "/p"), record)).toEqual(before);
  });

  test("no default runtime before: the key goes, and an empty runtimes map with it", () => {
    const before: DaemonJson = { "log-driver": "json-file", "data-root": "/srv/docker" };
    expect(withoutShim(withShim(before, "/p"), recordBeforeShim(before))).toEqual(before);
  });

  test("a shim installed before records existed: back to Docker's default", () => {
    expect(withoutShim(recorded("daemon-json-volcert-shim-unrecorded.json"), null)).toEqual({});
  });

  test("a default someone changed since the install is left alone", () => {
    const changed = { ...withShim({}, "/p"), "default-runtime": "crun", runtimes: { crun: { path: "/usr/bin/crun" } } };
    expect(withoutShim(changed, { defaultRuntime: "nvidia", recordedAt: "" })).toEqual({
      "default-runtime": "crun",
      runtimes: { crun: { path: "/usr/bin/crun" } },
    });
  });
});
