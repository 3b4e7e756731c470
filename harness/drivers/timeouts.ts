/** Per-operation timeouts of a driver: its own value (or volcert's default) × its timeoutMultiplier. */
import type { DriverFile, TimeoutKey } from "./schema.ts";

export const DEFAULT_TIMEOUTS_MS: Record<TimeoutKey, number> = {
  install: 5 * 60_000,
  podStart: 3 * 60_000,
  podDelete: 2 * 60_000,
  claimBound: 2 * 60_000,
  claimProvision: 3 * 60_000,
  pvDelete: 2 * 60_000,
  dataCheck: 2 * 60_000,
};

export function parseDuration(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
    ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"];
  }
  return ms;
}

export function driverTimeout(d: DriverFile | undefined, key: TimeoutKey): number {
  if (!d) return DEFAULT_TIMEOUTS_MS[key];
  const own = d.spec.timeouts[key];
  return Math.round((own ? parseDuration(own) : DEFAULT_TIMEOUTS_MS[key]) * d.spec.timeoutMultiplier);
}

/** A "must stay so for N seconds" window, stretched by the driver's timeoutMultiplier like its timeouts. */
export function holdWindow(d: DriverFile | undefined, ms: number): number {
  return Math.round(ms * (d?.spec.timeoutMultiplier ?? 1));
}
