/**
 * Long-lived shells into kind nodes (`docker exec -i <node> sh`), a few per node, so that a node
 * command costs a few forks in the node instead of a `docker exec` each (a runc exec: ~65 ms of
 * CPU on the 2-core machine; a main job ran ~1400 of them). When every session of a node is busy,
 * or none can be started (the node is stopped or frozen), the command runs the one-shot way and
 * fails or succeeds exactly as it always did. Powering a node off or freezing it closes this
 * process's sessions of the node (`forget`, before and again once frozen), so a command it sends
 * afterwards does not wait on a frozen shell; another process's sessions into a frozen node (the
 * CLI's, another Vitest worker's) answer at the command's timeout instead of at once.
 */
import { startPiped, tallyCommand, type PipedChild } from "../../harness/core/exec.ts";
import type { ExecResult } from "../../harness/core/exec.ts";
import { ShellSession, type SessionRunOptions } from "../../harness/core/shell-session.ts";

/** Sessions per node: about the node commands a run has in flight at once on one node. */
export const SESSIONS_PER_NODE = 4;
/** How long a new session may take to answer before the command goes the one-shot way. */
const READY_TIMEOUT_MS = 15_000;

/** Starts the process a node's session talks to (kind: `docker exec -i <node> sh`). */
export type SessionStarter = (node: string) => Promise<PipedChild>;

const dockerExecShell: SessionStarter = (node) => startPiped("docker", ["exec", "-i", node, "sh"]);

export class NodeSessions {
  private readonly byNode = new Map<string, Set<ShellSession>>();
  /** Sessions being started, per node (counted against the limit). */
  private readonly opening = new Map<string, number>();

  constructor(
    private readonly perNode = SESSIONS_PER_NODE,
    private readonly start: SessionStarter = dockerExecShell,
  ) {}

  /**
   * Runs argv in the node through an idle session (starting one if the node has fewer than the
   * limit); undefined when none is free, for the caller to run it the one-shot way.
   */
  async run(node: string, argv: readonly string[], opts: SessionRunOptions): Promise<ExecResult | undefined> {
    const session = await this.acquire(node);
    if (!session || session.dead) return undefined;
    const started = Date.now();
    const r = await session.run(argv, opts);
    tallyCommand(started, r.exitCode ?? r.signal, "node-session", [node, ...argv]);
    return r;
  }

  /** Closes the node's sessions (before it is powered off, frozen or deleted). */
  forget(node: string): void {
    for (const s of this.byNode.get(node) ?? []) s.close();
    this.byNode.delete(node);
  }

  private async acquire(node: string): Promise<ShellSession | undefined> {
    const sessions = this.byNode.get(node) ?? new Set<ShellSession>();
    this.byNode.set(node, sessions);
    for (const s of sessions) if (s.dead) sessions.delete(s);
    for (const s of sessions)
      if (!s.busy) {
        s.claimed = true;
        return s;
      }
    const opening = this.opening.get(node) ?? 0;
    if (sessions.size + opening >= this.perNode) return undefined;
    this.opening.set(node, opening + 1);
    try {
      const s = await ShellSession.open(() => this.start(node), READY_TIMEOUT_MS);
      if (!s) return undefined;
      // Forgotten while it was starting (the node was powered off meanwhile): not to be used.
      if (this.byNode.get(node) !== sessions) {
        s.close();
        return undefined;
      }
      sessions.add(s);
      s.claimed = true;
      return s;
    } finally {
      this.opening.set(node, (this.opening.get(node) ?? 1) - 1);
    }
  }
}
