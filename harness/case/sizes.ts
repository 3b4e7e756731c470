/** Sizes of the volumes cases create: small, to keep cases fast, but never below what the driver supports. */
import { quantityToBytes } from "../drivers/quantity.ts";
import type { DriverFile } from "../drivers/schema.ts";

const CASE_VOLUME_SIZE = "64Mi";

/** The size a case's dynamic claim requests: 64Mi, or the driver's sizeRange.min when that is larger. */
export function claimSize(d: DriverFile | undefined): string {
  const min = d?.spec.sizeRange.min;
  if (!min) return CASE_VOLUME_SIZE;
  return (quantityToBytes(min) ?? 0) > (quantityToBytes(CASE_VOLUME_SIZE) ?? 0) ? min : CASE_VOLUME_SIZE;
}
