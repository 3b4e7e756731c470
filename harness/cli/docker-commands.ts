import { say } from "../core/progress.ts";
import { removeShim } from "../docker/unshim.ts";
import { dockerHostOptions } from "./host.ts";

/** `volcert docker unshim`: the runtime shim out, the previous default runtime back. */
export async function dockerUnshim(): Promise<void> {
  const { isOurs, consentToRestart } = dockerHostOptions();
  await removeShim({
    ...(isOurs ? { isOurs } : {}),
    consent: consentToRestart ?? false,
    log: (m) => say(`docker: ${m}`),
  });
}
