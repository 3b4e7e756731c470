/**
 * Kubernetes resource quantities as driver files write them ("1Gi", "500M", "1.5Gi", "1000000"),
 * in bytes, so sizes can be compared (sizeRange.min ≤ sizeRange.max). Binary suffixes (Ki … Pi) are
 * powers of 1024, decimal ones (k … P) powers of 1000; no suffix means bytes. Exponent forms
 * ("1e9") and milli-units ("100m") are not accepted in driver files.
 */

/** The quantity forms a driver file may use (the schema's pattern). */
export const QUANTITY_PATTERN = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

const MULTIPLIERS: Record<string, bigint> = {
  "": 1n,
  k: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
  Ki: 2n ** 10n,
  Mi: 2n ** 20n,
  Gi: 2n ** 30n,
  Ti: 2n ** 40n,
  Pi: 2n ** 50n,
};

/**
 * Bytes of a quantity, rounded up to a whole byte as Kubernetes rounds storage requests ("0.5k" =
 * 500, "1.0001Ki" = 1025); null when the text is not a quantity. Exact (integer arithmetic), then
 * returned as a number (past 2^53 bytes, about 8 PiB, it is no longer exact).
 */
export function quantityToBytes(text: string): number | null {
  const m = QUANTITY_PATTERN.exec(text);
  if (!m) return null;
  const suffix = m[2] ?? "";
  const [whole = "0", fraction = ""] = text.slice(0, text.length - suffix.length).split(".");
  const scale = 10n ** BigInt(fraction.length);
  const scaled = (BigInt(whole) * scale + BigInt(fraction || "0")) * (MULTIPLIERS[suffix] as bigint);
  return Number((scaled + scale - 1n) / scale);
}
