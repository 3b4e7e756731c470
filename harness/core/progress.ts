/**
 * Progress lines on stderr: one line when a step starts, one when it ends with its duration.
 * Plain text, so CI logs and terminals read the same.
 */
export type Step = <T>(label: string, fn: () => Promise<T>) => Promise<T>;

export function say(message: string): void {
  process.stderr.write(`[volcert] ${message}\n`);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  return `${m}m${String(total - m * 60).padStart(2, "0")}s`;
}

export const step: Step = async (label, fn) => {
  const started = Date.now();
  say(`▶ ${label}`);
  try {
    const result = await fn();
    say(`✔ ${label} (${formatDuration(Date.now() - started)})`);
    return result;
  } catch (err) {
    say(`✘ ${label} (failed after ${formatDuration(Date.now() - started)})`);
    throw err;
  }
};
