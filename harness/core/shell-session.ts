/**
 * A long-lived POSIX shell that runs commands one at a time for volcert, framed over its stdin and
 * stdout. Starting a process in a node (`docker exec`: a runc exec, a new process joined to the
 * node's namespaces and cgroup) cost about 65 ms of CPU each on the 2-core machine, and a run makes
 * about a thousand of them; a command sent to a shell already in the node costs a few forks.
 *
 * Each command runs as a fresh process of the shell (no state carries over from one to the next:
 * no `cd`, no variables), its stdin from a file (never the session's own stdin, which carries the
 * next commands), its stdout and stderr to files whose sizes frame what comes back:
 *
 *   @volcert <seq> <exit code> <stdout bytes> <stderr bytes>\n<stdout><stderr>
 *
 * The transport (how the shell is reached) is the caller's: `docker exec -i <node> sh` on kind.
 */
import type { ExecResult, PipedChild } from "./exec.ts";
import { quoteArg } from "./exec.ts";

/** Sent once: a scratch directory removed when the shell ends, and the function that runs a command. */
const PRELUDE = `d=$(mktemp -d /tmp/volcert-session.XXXXXX) || exit 97
trap 'rm -rf "$d"' EXIT
: >"$d/i"
v() { n=$1; shift; "$@" <"$d/i" >"$d/o" 2>"$d/e"; x=$?; : >"$d/i"; printf '@volcert %s %s %s %s\\n' "$n" "$x" $(wc -c <"$d/o") $(wc -c <"$d/e"); cat "$d/o" "$d/e"; }
printf '@volcert ready\\n'
`;

const INPUT_END = "@VOLCERT_INPUT_END";
const HEADER = /^@volcert (\d+) (\d+) (\d+) (\d+)$/;

/** The script that runs one command: its input (base64, so any bytes survive), then the command. */
export function requestScript(seq: number, argv: readonly string[], input?: string | Buffer): string {
  let script = "";
  if (input !== undefined && input.length > 0) {
    const b64 = Buffer.from(input)
      .toString("base64")
      .replace(/.{1,76}/g, "$&\n");
    script += `base64 -d >"$d/i" <<'${INPUT_END}'\n${b64}${INPUT_END}\n`;
  }
  return `${script}v ${seq} ${argv.map(quoteArg).join(" ")}\n`;
}

interface Frame {
  seq: number;
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Splits the session's stdout into frames; anything else on it is a protocol error. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes received after `buf`, joined only once a frame's body is complete (no quadratic copying). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private header: { seq: number; exitCode: number; out: number; err: number } | undefined;
  ready = false;

  /** Feeds bytes; returns the frames completed by them. Throws on bytes that are not a frame. */
  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const need = this.header ? this.header.out + this.header.err : 0;
    if (this.header && this.buf.length + this.pendingBytes < need) return [];
    this.buf = Buffer.concat([this.buf, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    const frames: Frame[] = [];
    for (;;) {
      if (!this.header) {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) {
          if (this.buf.length > 200) throw new Error(`not a frame header: ${this.preview()}`);
          return frames;
        }
        const line = this.buf.subarray(0, nl).toString("utf8");
        if (!this.ready && line === "@volcert ready") {
          this.ready = true;
          this.buf = this.buf.subarray(nl + 1);
          continue;
        }
        const m = HEADER.exec(line);
        if (!m || !this.ready) throw new Error(`not a frame header: ${this.preview()}`);
        this.header = { seq: Number(m[1]), exitCode: Number(m[2]), out: Number(m[3]), err: Number(m[4]) };
        this.buf = this.buf.subarray(nl + 1);
      }
      const { seq, exitCode, out, err } = this.header;
      if (this.buf.length < out + err) return frames;
      frames.push({
        seq,
        exitCode,
        stdout: Buffer.from(this.buf.subarray(0, out)),
        stderr: Buffer.from(this.buf.subarray(out, out + err)),
      });
      this.buf = this.buf.subarray(out + err);
      this.header = undefined;
    }
  }

  private preview(): string {
    return JSON.stringify(this.buf.subarray(0, 120).toString("utf8"));
  }
}

export interface SessionRunOptions {
  input?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What the command is called in results (the one-shot command line a person could paste). */
  display: string;
}

interface Pending {
  seq: number;
  started: number;
  display: string;
  resolve(r: ExecResult): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

export class ShellSession {
  private readonly reader = new FrameReader();
  private pending: Pending | undefined;
  private seq = 0;
  private stderrTail = "";
  private onReady: ((ok: boolean) => void) | undefined;
  /** Set once the shell is gone or unusable; a dead session takes no more commands. */
  dead = false;

  private constructor(private readonly child: PipedChild) {
    child.stdout.on("data", (chunk: Buffer) => this.onData(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2000);
    });
    void child.exited.then(({ code, signal }) => {
      this.dead = true;
      this.onReady?.(false);
      const p = this.pending;
      if (p) {
        this.pending = undefined;
        clearTimeout(p.timer);
        // Never a success, and no exit code of the command's: no frame said how it ended (what
        // ended is the transport, whose exit status is not the command's).
        const why = `${this.stderrTail.trim()}\nthe node's shell session ended before the command finished`.trim();
        p.resolve(this.result(p, null, `session ended (${signal ?? `exit ${code}`})`, "", why));
      }
    });
  }

  /**
   * Starts a session; undefined when the shell did not come up within `readyTimeoutMs` (the node is
   * stopped or frozen, say): the caller then runs the command the one-shot way, which fails or
   * succeeds exactly as it always did.
   */
  static async open(start: () => Promise<PipedChild>, readyTimeoutMs: number): Promise<ShellSession | undefined> {
    let child: PipedChild;
    try {
      child = await start();
    } catch {
      return undefined;
    }
    const session = new ShellSession(child);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), readyTimeoutMs);
      session.onReady = (up) => {
        clearTimeout(timer);
        resolve(up);
      };
      child.stdin.write(PRELUDE);
    });
    session.onReady = undefined;
    if (!ok) {
      session.close();
      return undefined;
    }
    return session;
  }

  /** Reserved by a caller about to run a command (set synchronously when it is chosen). */
  claimed = false;

  get busy(): boolean {
    return this.claimed || this.pending !== undefined;
  }

  /**
   * Runs argv and resolves with what it did, like `exec` with `nothrow`. At the timeout the session
   * is killed (the command in the node is bounded by its own `timeout`, as before) and the result
   * says killed; an aborted signal kills it too and rejects with the abort reason.
   */
  run(argv: readonly string[], opts: SessionRunOptions): Promise<ExecResult> {
    this.claimed = false;
    if (this.dead || this.pending) throw new Error("shell session is busy or closed");
    opts.signal?.throwIfAborted();
    const seq = ++this.seq;
    return new Promise<ExecResult>((resolve, reject) => {
      const started = Date.now();
      const onAbort = () => {
        clearTimeout(timer);
        this.pending = undefined;
        this.close();
        reject(opts.signal?.reason);
      };
      const timer = setTimeout(() => {
        this.pending = undefined;
        opts.signal?.removeEventListener("abort", onAbort);
        this.close();
        resolve(this.result({ started, display: opts.display }, null, "SIGTERM", "", "timed out"));
      }, opts.timeoutMs);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.pending = {
        seq,
        started,
        display: opts.display,
        timer,
        resolve: (r) => {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject,
      };
      this.child.stdin.write(requestScript(seq, argv, opts.input));
    });
  }

  close(): void {
    this.dead = true;
    this.child.kill();
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      const wasReady = this.reader.ready;
      frames = this.reader.push(chunk);
      if (!wasReady && this.reader.ready) this.onReady?.(true);
    } catch (err) {
      // Not our protocol any more: nothing it says can be trusted; the pending command ends killed.
      this.stderrTail += `\n${(err as Error).message}`;
      this.close();
      return;
    }
    for (const f of frames) {
      const p = this.pending;
      if (!p || p.seq !== f.seq) {
        this.stderrTail += `\nframe ${f.seq} answered no pending command`;
        this.close();
        return;
      }
      this.pending = undefined;
      clearTimeout(p.timer);
      p.resolve(this.result(p, f.exitCode, null, f.stdout.toString("utf8"), f.stderr.toString("utf8")));
    }
  }

  private result(
    p: Pick<Pending, "started" | "display">,
    exitCode: number | null,
    signal: string | null,
    stdout: string,
    stderr: string,
  ): ExecResult {
    return {
      command: p.display,
      exitCode,
      signal,
      stdout,
      stderr,
      durationMs: Date.now() - p.started,
      ok: exitCode === 0 && signal === null,
    };
  }
}
