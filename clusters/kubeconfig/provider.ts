/**
 * Bring-your-own cluster: a kubeconfig the user points at. This provider never creates, changes
 * or destroys a cluster; it only checks the kubeconfig and that the API server answers, and marks
 * the cluster as not created by volcert (so disruptive suites stay off unless explicitly allowed).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError, InfraError } from "../../harness/core/errors.ts";
import { exec, lastLines } from "../../harness/core/exec.ts";
import type { Cluster } from "../cluster.ts";

interface KubeconfigFile {
  "current-context"?: string;
  contexts?: { name: string; context?: { cluster?: string } }[];
  clusters?: { name: string; cluster?: { server?: string } }[];
}

/** Checks a kubeconfig's structure; returns the API server URL of the chosen context. */
export function checkKubeconfig(text: string, source: string, context?: string): { context: string; server: string } {
  let doc: KubeconfigFile;
  try {
    doc = (parse(text) ?? {}) as KubeconfigFile;
  } catch (err) {
    throw new ConfigError(`${source} is not valid YAML`, [(err as Error).message]);
  }
  const problems: string[] = [];
  const ctxName = context ?? doc["current-context"];
  if (!ctxName) problems.push("no context given and no current-context set");
  const ctx = doc.contexts?.find((c) => c.name === ctxName);
  if (ctxName && !ctx)
    problems.push(
      `context "${ctxName}" not found (have: ${(doc.contexts ?? []).map((c) => c.name).join(", ") || "none"})`,
    );
  const cl = ctx?.context?.cluster ? doc.clusters?.find((c) => c.name === ctx.context?.cluster) : undefined;
  if (ctx && !cl)
    problems.push(`context "${ctxName}" refers to cluster "${ctx.context?.cluster ?? ""}", which is not defined`);
  const server = cl?.cluster?.server;
  if (cl && !server) problems.push(`cluster "${cl.name}" has no server URL`);
  if (problems.length)
    throw new ConfigError(`${source} cannot be used`, problems, { fix: "check it with `kubectl config view`" });
  return { context: ctxName as string, server: server as string };
}

export async function attachKubeconfig(path: string, kubectl: string, context?: string): Promise<Cluster> {
  const full = resolve(path);
  if (!existsSync(full)) {
    throw new ConfigError(`kubeconfig ${full} does not exist`, [], {
      fix: "pass --kubeconfig with the path of an existing file",
    });
  }
  const { context: ctx, server } = checkKubeconfig(await readFile(full, "utf8"), full, context);
  const r = await exec(kubectl, ["--kubeconfig", full, "--context", ctx, "get", "--raw", "/readyz"], {
    nothrow: true,
    timeoutMs: 30_000,
  });
  if (!r.ok) {
    throw new InfraError(`the API server of context "${ctx}" (${server}) does not answer: ${lastLines(r.stderr, 3)}`, {
      fix: "start the cluster or fix the kubeconfig; if it is a kind cluster that was deleted, create a new one with `volcert cluster up`",
    });
  }
  return { name: ctx, kubeconfigPath: full, provider: "kubeconfig", createdByVolcert: false };
}
