import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { categoryOf } from "../core/errors.ts";
import { CommandError } from "../core/exec.ts";
import type { NodeAccess, NodePowerState, NodeShell } from "../core/nodes.ts";
import type { Kube } from "../k8s/kube.ts";
import { isClean, leakError } from "./leak-report.ts";
import { checkLeaks, newMarks, type LeakScope } from "./leaks.ts";

const recorded = (name: string) => readFileSync(new URL(`../../fixtures/recorded/${name}`, import.meta.url), "utf8");

const NS = "volcert-am-01-a98d0c";
const WORKER = "volcert-h10-worker";
const CP = "volcert-h10-control-plane";
const PODS = ["1e2282fb-bda2-49f4-b195-2d61c81dbcd4", "890fcfe5-b273-44dc-a73b-0c1c5b42ec4c"];
const scope: LeakScope = {
  namespace: NS,
  podUids: PODS,
  volumes: [{ pv: `${NS}-pv-claim` }],
  dataPaths: [],
  nodesBefore: new Map([
    [CP, { unschedulable: false, taints: ["node-role.kubernetes.io/control-plane:NoSchedule"] }],
    [WORKER, { unschedulable: false, taints: [] }],
  ]),
};

/** A fake API: lists of each kind (default empty) and the namespace (default gone). */
function fakeKube(objects: Record<string, unknown[]> = {}, failing: string[] = []): Kube {
  const nodes = [
    {
      metadata: { name: CP },
      spec: { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] },
    },
    { metadata: { name: WORKER }, spec: {} },
  ];
  return {
    readIfExists: async (kind: string) => (objects[kind] ?? [])[0],
    list: async (kind: string) => {
      if (failing.includes(kind)) throw new Error(`list ${kind}: connect ECONNREFUSED 172.18.0.3:6443`);
      return objects[kind] ?? (kind === "Node" ? nodes : []);
    },
  } as unknown as Kube;
}

/** As the script does: of the recorded paths section, only the paths this command asked about. */
function askedOnly(stdout: string, argv: readonly string[]): string {
  const asked = argv.filter((a) => a.startsWith("p:")).map((a) => a.slice(2));
  const [head, rest] = stdout.split("@@@ paths\n") as [string, string];
  const [paths, tail] = rest.split(/(?=@@@ exit)/) as [string, string];
  const kept = paths.split("\n").filter((p) => asked.includes(p));
  return `${head}@@@ paths\n${kept.map((p) => `${p}\n`).join("")}${tail}`;
}

const ok = (stdout: string) => ({
  command: "",
  exitCode: 0,
  signal: null,
  stdout,
  stderr: "",
  durationMs: 1,
  ok: true,
});

/** Node access whose shell answers with the recorded snapshot (or the recorded docker exec error). */
function access(worker: string | CommandError, state: NodePowerState = "running"): NodeAccess {
  const shell: NodeShell = {
    nodes: async () => [CP, WORKER],
    commandLine: (n, c) => `${n}: ${c}`,
    exec: async (node, argv) => {
      if (node === CP) return ok(askedOnly(recorded("kind-node-leak-snapshot-cleaned-up.txt"), argv));
      if (worker instanceof CommandError) throw worker;
      return ok(askedOnly(worker, argv));
    },
  };
  return {
    shell,
    lifecycle: {
      state: async (node) => (node === WORKER ? state : "running"),
      stop: async () => {},
      start: async () => {},
      pause: async () => {},
      unpause: async () => {},
      address: async () => "",
    },
    description: "kind cluster volcert-h10",
  };
}

/** What `docker exec` answered on a paused node and on a stopped container (recorded). */
const dockerExecFailed = (file: string) =>
  new CommandError({
    command: `docker exec ${WORKER} sh -c ...`,
    exitCode: 1,
    signal: null,
    stdout: "",
    stderr: recorded(file),
    durationMs: 40,
    ok: false,
  });

describe("leak check", () => {
  test("after a clean case: nothing, on every node", async () => {
    const r = await checkLeaks(fakeKube(), access(recorded("kind-node-leak-snapshot-cleaned-up.txt")), scope);
    expect(r.leftovers).toEqual([]);
    expect(r.probeFailures).toEqual([]);
    expect(r.checked).toBe(`the API and nodes ${CP}, ${WORKER}`);
    expect(leakError("AM-01", r)).toBeNull();
  });

  test("the pods' and the driver's mounts, the loop device and the kubelet directories left: the driver's", async () => {
    const r = await checkLeaks(fakeKube(), access(recorded("kind-node-leak-snapshot-flex-loop.txt")), scope);
    const what = r.leftovers.map((l) => l.what);
    expect(what).toContain(
      `${WORKER}: mount of pod ${PODS[0]} left behind: /var/lib/kubelet/pods/${PODS[0]}/volumes/volcert~loop/${NS}-pv-claim`,
    );
    expect(what).toContain(
      `${WORKER}: mount of PV ${NS}-pv-claim left behind: /var/lib/volcert-flex-loop/mnt/${NS}-pv-claim`,
    );
    expect(what).toContain(
      `${WORKER}: kubelet directory of pod ${PODS[1]} left behind: /var/lib/kubelet/pods/${PODS[1]}`,
    );
    // Seen from both nodes (one kernel), reported once.
    expect(what.filter((w) => w.startsWith("loop device"))).toEqual([
      `loop device left attached: /dev/loop0 /var/lib/volcert-flex-loop/${NS}-pv-claim.img (seen on ${WORKER})`,
    ]);
    expect(r.leftovers.every((l) => l.blame === "driver")).toBe(true);
    const err = leakError("AM-01", r);
    expect(categoryOf(err)).toBe("driver");
    expect(err?.message).toMatch(/^leak check failed after AM-01:\n {2}- /);
  });

  test("a paused node fails the check as infrastructure, naming the node, never 'no leak'", async () => {
    const r = await checkLeaks(
      fakeKube(),
      access(dockerExecFailed("docker-exec-kind-node-paused.txt"), "paused"),
      scope,
    );
    expect(r.leftovers).toEqual([]);
    expect(r.probeFailures).toEqual([
      {
        probe: "node shell",
        node: WORKER,
        error: expect.stringMatching(
          /^node is paused, so its mounts, loop devices and kubelet directories cannot be checked \(command exited 1 .*is paused, unpause the container before exec/,
        ),
      },
    ]);
    const err = leakError("AM-01", r);
    expect(categoryOf(err)).toBe("infrastructure");
    expect(err?.message).toMatch(/could not check node shell on node volcert-h10-worker: node is paused/);
  });

  test("a stopped node fails the check too", async () => {
    const r = await checkLeaks(
      fakeKube(),
      access(dockerExecFailed("docker-exec-stopped-container.txt"), "stopped"),
      scope,
    );
    expect(r.probeFailures.map((f) => `${f.node}: ${f.error}`)).toEqual([
      expect.stringMatching(/^volcert-h10-worker: node is stopped, so .* cannot be checked .*is not running/),
    ]);
    expect(categoryOf(leakError("AM-01", r))).toBe("infrastructure");
  });

  test("a probe that fails inside the node fails the check, naming the probe and the node", async () => {
    const r = await checkLeaks(fakeKube(), access(recorded("kind-node-leak-snapshot-no-losetup.txt")), scope);
    expect(r.probeFailures).toEqual([{ probe: "losetup", node: WORKER, error: "exited 127" }]);
    expect(isClean(r)).toBe(false);
  });

  test("an API error fails the check as infrastructure, naming the request", async () => {
    const r = await checkLeaks(
      fakeKube({}, ["VolumeAttachment"]),
      access(recorded("kind-node-leak-snapshot-cleaned-up.txt")),
      scope,
    );
    expect(r.probeFailures).toEqual([
      { probe: "list VolumeAttachments", error: "list VolumeAttachment: connect ECONNREFUSED 172.18.0.3:6443" },
    ]);
    expect(categoryOf(leakError("AM-01", r))).toBe("infrastructure");
  });

  test("a Terminating namespace is nobody's leak; its pods and claims are the driver's, an undeleted namespace volcert's", async () => {
    const terminating = await checkLeaks(
      fakeKube({ Namespace: [{ metadata: { name: NS, deletionTimestamp: new Date("2026-12-02T15:00:00Z") } }] }),
      access(recorded("kind-node-leak-snapshot-cleaned-up.txt")),
      scope,
    );
    expect(terminating.leftovers).toEqual([]);
    const stuck = await checkLeaks(
      fakeKube({
        Namespace: [{ metadata: { name: NS } }],
        PersistentVolumeClaim: [{ metadata: { name: "data", namespace: NS }, status: { phase: "Bound" } }],
        Pod: [{ metadata: { namespace: NS, name: "app-0", labels: {} } }],
      }),
      access(recorded("kind-node-leak-snapshot-cleaned-up.txt")),
      scope,
    );
    expect(stuck.leftovers).toEqual([
      { what: `namespace ${NS} was not deleted`, blame: "infrastructure" },
      { what: `claim ${NS}/data still exists (phase Bound)`, blame: "driver" },
      { what: `pod ${NS}/app-0 still exists`, blame: "driver" },
    ]);
  });

  test("API leftovers: PV, its VolumeAttachment, the case's class, a driver's helper pod, a cordon and a taint", async () => {
    const r = await checkLeaks(
      fakeKube({
        PersistentVolume: [
          { metadata: { name: "pvc-1" }, spec: { claimRef: { namespace: NS } }, status: { phase: "Released" } },
        ],
        VolumeAttachment: [
          { metadata: { name: "csi-abc" }, spec: { source: { persistentVolumeName: "pvc-1" }, nodeName: WORKER } },
          { metadata: { name: "csi-other" }, spec: { source: { persistentVolumeName: "pvc-2" }, nodeName: WORKER } },
        ],
        StorageClass: [{ metadata: { name: NS } }, { metadata: { name: "volcert-csi-hostpath" } }],
        Pod: [
          { metadata: { namespace: "kube-system", name: "mounter-pvc-1-x", labels: {} } },
          { metadata: { namespace: "kube-system", name: "coredns-1", labels: { "k8s-app": "kube-dns" } } },
        ],
        Node: [
          {
            metadata: { name: CP },
            spec: { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] },
          },
          {
            metadata: { name: WORKER },
            spec: {
              unschedulable: true,
              taints: [{ key: "node.kubernetes.io/out-of-service", value: "nodeshutdown", effect: "NoExecute" }],
            },
          },
        ],
      }),
      access(recorded("kind-node-leak-snapshot-cleaned-up.txt")),
      scope,
    );
    expect(r.leftovers).toEqual([
      { what: `PersistentVolume pvc-1 (case ${NS}) still exists (phase Released)`, blame: "driver" },
      { what: `VolumeAttachment csi-abc of PV pvc-1 to node ${WORKER} still exists`, blame: "driver" },
      { what: `StorageClass ${NS} was not deleted`, blame: "infrastructure" },
      { what: `pod kube-system/mounter-pvc-1-x refers to case ${NS} and still exists`, blame: "driver" },
      { what: `node ${WORKER} left cordoned`, blame: "infrastructure" },
      {
        what: `node ${WORKER} left tainted node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`,
        blame: "infrastructure",
      },
    ]);
    expect(leakError("AM-01", r)?.message).toMatch(/also:\n {4}- StorageClass .* \(not the driver's\)/);
  });
});

describe("cordons and taints", () => {
  test("only what was added since the case began", () => {
    const before = { unschedulable: true, taints: ["a:NoSchedule"] };
    expect(newMarks(before, { unschedulable: true, taints: ["a:NoSchedule", "b=1:NoExecute"] })).toEqual([
      "left tainted b=1:NoExecute",
    ]);
  });

  test("without a baseline, any cordon and node.kubernetes.io taint", () => {
    expect(
      newMarks(undefined, {
        unschedulable: true,
        taints: ["node-role.kubernetes.io/control-plane:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"],
      }),
    ).toEqual(["left cordoned", "left tainted node.kubernetes.io/unreachable:NoExecute"]);
  });
});
