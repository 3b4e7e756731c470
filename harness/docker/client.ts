/**
 * Docker API access through testcontainers (the only file that imports it). Its reaper ("Ryuk")
 * image cannot be pulled without a registry, so it is disabled; volcert labels what it starts and
 * sweeps by label instead.
 */
process.env["TESTCONTAINERS_RYUK_DISABLED"] = "true";

import { getContainerRuntimeClient } from "testcontainers";

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: string;
  labels: Record<string, string>;
}

/** Running and stopped containers carrying `key` (and, if given, `key=value`). */
export async function listContainersByLabel(key: string, value?: string): Promise<ContainerSummary[]> {
  const client = await getContainerRuntimeClient();
  const filter = value === undefined ? key : `${key}=${value}`;
  const found = await client.container.dockerode.listContainers({ all: true, filters: { label: [filter] } });
  return found.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
    image: c.Image,
    state: c.State,
    labels: c.Labels,
  }));
}

export async function removeContainer(id: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  await client.container.dockerode.getContainer(id).remove({ force: true, v: true });
}
