/** volcert's state and build cache, outside the repository: $VOLCERT_CACHE or ~/.cache/volcert. */
import { homedir } from "node:os";
import { join } from "node:path";

export function cacheRoot(): string {
  return process.env["VOLCERT_CACHE"] ?? join(homedir(), ".cache", "volcert");
}
