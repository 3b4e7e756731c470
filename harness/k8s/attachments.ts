/** VolumeAttachments: the attach/detach controller's record of which node a volume is attached to. */
import type { Kube, Model } from "./kube.ts";

export type VolumeAttachment = Model<"VolumeAttachment">;

/** Every VolumeAttachment of a PV, whatever its node or state. */
export async function attachmentsOf(kube: Kube, pv: string): Promise<VolumeAttachment[]> {
  return (await kube.list("VolumeAttachment")).filter((v) => v.spec.source.persistentVolumeName === pv);
}
