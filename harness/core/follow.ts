/**
 * Echoes the lines a child process appends to its log file, as they come (a poll every half
 * second, not a wait: it ends when the caller stops it, after a last read). The child writes to
 * the file, never to a pipe of ours, so it keeps working when volcert's own process is gone.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

export interface Follower {
  /** Reads what is left, echoes it (an unfinished last line too) and stops. */
  stop(): void;
}

export function followLines(file: string, onLine: (line: string) => void, intervalMs = 500): Follower {
  let offset = 0;
  let partial = "";
  const buf = Buffer.alloc(64 * 1024);
  // A character split across two reads is kept whole.
  const decoder = new StringDecoder("utf8");
  const drain = () => {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return; // not created yet
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        partial += decoder.write(buf.subarray(0, n));
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) onLine(l);
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(drain, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      drain();
      if (partial) onLine(partial);
      partial = "";
    },
  };
}
