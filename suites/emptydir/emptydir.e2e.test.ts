/**
 * ED: emptyDir sharing between containers. No driver and no capability involved, so these run once
 * per cluster. Every data check uses a seeded pattern whose checksum is computed locally.
 */
import { driverTimeout } from "../../harness/drivers/timeouts.ts";
import { describe, expect } from "vitest";
import { expectedChecksum, newPattern, readChecksumScript, writeScript } from "../../harness/data/pattern.ts";
import { recordParameter } from "../../harness/evidence/allure.ts";
import type { V1Pod } from "../../harness/k8s/kube.ts";
import { deletePodAndWait, waitForPodReady } from "../../harness/k8s/pods.ts";
import { registerClusterCases, type ClusterCase, type ClusterCaseContext } from "../../harness/case/runtime.ts";
import { runContext } from "../../harness/case/run-context.ts";

const area = "emptyDir";
const defineCase = (meta: ClusterCase["meta"], body: ClusterCase["body"]) => registerClusterCases([{ meta, body }]);

type Container = NonNullable<V1Pod["spec"]>["containers"][number];
const sleeper = (name: string, mountPath: string, extra: Partial<Container> = {}): Container => ({
  name,
  image: runContext().images.workload,
  imagePullPolicy: "IfNotPresent",
  command: ["sleep", "infinity"],
  volumeMounts: [{ name: "shared", mountPath }],
  ...extra,
});

function pod(
  name: string,
  containers: Container[],
  volume: Record<string, unknown> = {},
  spec: Partial<NonNullable<V1Pod["spec"]>> = {},
): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "volcert" } },
    spec: { terminationGracePeriodSeconds: 1, containers, volumes: [{ name: "shared", emptyDir: volume }], ...spec },
  };
}

async function run(c: ClusterCaseContext, p: V1Pod): Promise<void> {
  await c.createPod(p);
  await waitForPodReady(c.kube, c.ns, p.metadata?.name as string, driverTimeout(undefined, "podStart"));
}

const sh = (c: ClusterCaseContext, podName: string, container: string, script: string) =>
  c.kube.execInPod(c.ns, podName, ["sh", "-c", script], container);

describe("ED emptyDir sharing between containers", () => {
  defineCase(
    {
      id: "ED-01",
      area,
      title: "two containers share an emptyDir at different mount paths",
      asserts: "bytes written by one container are read back identically by the other",
    },
    async (c) => {
      const p = newPattern();
      await recordParameter("seed", p.seed);
      await run(c, pod("ed01", [sleeper("writer", "/out"), sleeper("reader", "/in")]));
      const written = (await c.kube.execInPod(c.ns, "ed01", writeScript(p, "/out/pattern"), "writer")).trim();
      const read = (await c.kube.execInPod(c.ns, "ed01", readChecksumScript("/in/pattern"), "reader")).trim();
      const expected = await expectedChecksum(p);
      expect(written).toBe(expected);
      expect(read).toBe(expected);
    },
  );

  defineCase(
    {
      id: "ED-02",
      area,
      title: "an init container writes, the app container reads",
      asserts: "data written by the init container is present and intact for the app container",
    },
    async (c) => {
      const p = newPattern();
      await recordParameter("seed", p.seed);
      const [cmd, ...args] = writeScript(p, "/work/pattern");
      const init: Container = {
        name: "init",
        image: runContext().images.workload,
        imagePullPolicy: "IfNotPresent",
        command: [cmd as string, ...args],
        volumeMounts: [{ name: "shared", mountPath: "/work" }],
      };
      await run(c, pod("ed02", [sleeper("app", "/data")], {}, { initContainers: [init] }));
      const read = (await c.kube.execInPod(c.ns, "ed02", readChecksumScript("/data/pattern"), "app")).trim();
      expect(read).toBe(await expectedChecksum(p));
    },
  );

  defineCase(
    {
      id: "ED-03",
      area,
      title: "medium Memory is tmpfs and sizeLimit caps it",
      asserts: "the mount is tmpfs; writing past sizeLimit fails (ENOSPC) while writing below it succeeds",
    },
    async (c) => {
      await run(c, pod("ed03", [sleeper("app", "/mem")], { medium: "Memory", sizeLimit: "16Mi" }));
      const fstype = (await sh(c, "ed03", "app", "awk '$2 == \"/mem\" { print $3 }' /proc/mounts")).trim();
      expect(fstype).toBe("tmpfs");
      await sh(c, "ed03", "app", "head -c 8388608 /dev/zero > /mem/below && echo ok");
      const over = await c.kube.runInPod(c.ns, "ed03", ["sh", "-c", "head -c 33554432 /dev/zero > /mem/over"], {
        container: "app",
      });
      expect(over.exitCode, "writing 32Mi into a 16Mi memory emptyDir must fail").not.toBe(0);
      expect(over.stderr).toMatch(/No space left on device/);
    },
  );

  defineCase(
    {
      id: "ED-04",
      area,
      title: "mode, ownership and fsGroup",
      asserts:
        "the directory is mode 0777 (setgid with fsGroup) and group-owned by fsGroup; root and a non-root user can both create files",
    },
    async (c) => {
      const nonRoot: Container = sleeper("user", "/data", { securityContext: { runAsUser: 1000, runAsGroup: 1000 } });
      await run(c, pod("ed04", [sleeper("root", "/data"), nonRoot], {}, { securityContext: { fsGroup: 2000 } }));
      const st = (await sh(c, "ed04", "root", "stat -c '%a %g' /data")).trim();
      const [mode, gid] = st.split(" ");
      expect(gid, "group owner of the emptyDir").toBe("2000");
      expect(["777", "2777"]).toContain(mode);
      await sh(c, "ed04", "root", "echo root > /data/by-root");
      await sh(c, "ed04", "user", "echo user > /data/by-user");
      const owners = (await sh(c, "ed04", "root", "stat -c '%n %u %g' /data/by-root /data/by-user")).trim().split("\n");
      expect(owners).toEqual(["/data/by-root 0 2000", "/data/by-user 1000 2000"]);
    },
  );

  defineCase(
    {
      id: "ED-05",
      area,
      title: "content is gone after the pod is deleted and re-created",
      asserts: "a re-created pod (same name, same node) starts with an empty emptyDir",
    },
    async (c) => {
      await run(c, pod("ed05", [sleeper("app", "/data")]));
      const first = await c.kube.core.readNamespacedPod({ namespace: c.ns, name: "ed05" });
      await sh(c, "ed05", "app", "echo persisted-nowhere > /data/marker");
      await deletePodAndWait(c.kube, c.ns, "ed05", driverTimeout(undefined, "podDelete"));
      await run(c, pod("ed05", [sleeper("app", "/data")], {}, { nodeName: first.spec?.nodeName as string }));
      const listing = (await sh(c, "ed05", "app", "ls -A /data")).trim();
      expect(listing).toBe("");
    },
  );
});
