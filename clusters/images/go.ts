/**
 * Go builds for the image toolchain. All of them share one module cache and one build cache under
 * the volcert cache, use the machine's Go (>= 1.26) and never a workspace, and build static
 * binaries.
 */
import { join } from "node:path";
import { InfraError } from "../../harness/core/errors.ts";
import { exec } from "../../harness/core/exec.ts";
import { cachePaths } from "./cache.ts";

const MIN_GO = [1, 26] as const;

export function goEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GOMODCACHE: cachePaths.goModCache(),
    GOCACHE: cachePaths.goBuildCache(),
    GOTOOLCHAIN: "local",
    GOWORK: "off",
    GOFLAGS: "-mod=mod",
    CGO_ENABLED: "0",
    ...extra,
  };
}

export function parseGoVersion(text: string): [number, number] | null {
  const m = /go(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export async function checkGo(): Promise<string> {
  const r = await exec("go", ["env", "GOVERSION"], { nothrow: true, env: goEnv() });
  const v = r.ok ? parseGoVersion(r.stdout) : null;
  if (!v) {
    throw new InfraError(
      `Go is needed to build volcert's images but \`go env GOVERSION\` failed: ${r.stderr.trim() || "not found"}`,
      {
        fix: "install Go 1.26 or newer (https://go.dev/dl or Debian backports) and put it on PATH",
      },
    );
  }
  if (v[0] < MIN_GO[0] || (v[0] === MIN_GO[0] && v[1] < MIN_GO[1])) {
    throw new InfraError(
      `Go ${r.stdout.trim()} is too old: volcert's Go modules (CSI sidecars, our drivers) need Go ${MIN_GO.join(".")} or newer`,
      {
        fix: "install a newer Go, or set GOTOOLCHAIN=go1.26.0 so go fetches one through the module proxy",
      },
    );
  }
  return r.stdout.trim();
}

export interface GoBuildSpec {
  /** Directory of the main (wrapper) module. */
  moduleDir: string;
  /** Package path → output binary name. */
  packages: Record<string, string>;
  ldflags?: string;
  tags?: string[];
  outDir: string;
  logFile: string;
  env?: Record<string, string>;
}

const GO_BUILD_TIMEOUT_MS = 60 * 60_000;

export async function goBuild(spec: GoBuildSpec): Promise<void> {
  for (const [pkg, name] of Object.entries(spec.packages)) {
    await exec(
      "go",
      [
        "build",
        "-trimpath",
        ...(spec.tags?.length ? ["-tags", spec.tags.join(",")] : []),
        "-ldflags",
        `${spec.ldflags ?? ""} -s -w`.trim(),
        "-o",
        join(spec.outDir, name),
        pkg,
      ],
      { cwd: spec.moduleDir, env: goEnv(spec.env), timeoutMs: GO_BUILD_TIMEOUT_MS, logFile: spec.logFile },
    );
  }
}

/** `go install module/pkg@version` for modules without replace directives. */
export async function goInstall(
  target: string,
  opts: { outDir: string; logFile: string; ldflags?: string; env?: Record<string, string> },
): Promise<void> {
  await exec("go", ["install", "-trimpath", "-ldflags", `${opts.ldflags ?? ""} -s -w`.trim(), target], {
    cwd: opts.outDir,
    env: goEnv({ GOBIN: opts.outDir, ...opts.env }),
    timeoutMs: GO_BUILD_TIMEOUT_MS,
    logFile: opts.logFile,
  });
}

/** The -X flags Kubernetes binaries need: kubeadm derives version skew rules from gitVersion. */
export function kubernetesLdflags(version: string, gitCommit: string, buildDate: string): string {
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version) ?? [];
  const flags: string[] = [];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    flags.push(
      `-X ${pkg}.gitVersion=${version}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitCommit=${gitCommit}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=${buildDate}`,
    );
  }
  return flags.join(" ");
}
