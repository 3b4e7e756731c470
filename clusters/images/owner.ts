/**
 * Labels of the containers volcert starts itself (the node image's assembly container). They are
 * set by `docker run --label` only, never baked into an image: every container of an image
 * inherits the image's labels, so an image label says nothing about who started a container.
 * The owner label is the starting process (pid, start time, boot id): `cluster sweep` removes a
 * container only when that process is gone.
 */
import { bootId, leaseAlive, processStartTime } from "../../harness/core/leases.ts";

export const ROLE_LABEL = "io.volcert.role";
export const OWNER_LABEL = "io.volcert.owner";

/** `<pid>/<start time>/<boot id>` of this process. */
export function ownerLabel(): string {
  return `${process.pid}/${processStartTime(process.pid) ?? ""}/${bootId()}`;
}

export function ownerAlive(owner: string): boolean {
  const [pid, startTime, boot] = owner.split("/");
  return leaseAlive({
    runId: "",
    pid: Number(pid),
    startTime: startTime ?? "",
    bootId: boot ?? "",
    startedAt: "",
    command: "",
  });
}
