/**
 * The case catalog: every test ID volcert runs, with its area and title, and for driver cases the
 * requirements the gate applies. The CLI checks `--case`/`--require` against it before any
 * cluster work, and the certification profile (harness/report/verdict.ts) is computed from it.
 * Driver cases come from the suites' own case lists; cluster cases (emptyDir, smoke) are listed
 * here, and catalog.test.ts keeps both in step with the suite files.
 */
import type { CaseMeta } from "../harness/case/types.ts";
import { ACCESS_MODE_CASES } from "./access-modes/cases.ts";
import { ATTACH_CASES } from "./attach/cases.ts";
import { EXPANSION_CASES } from "./expansion/cases.ts";
import { SNAPSHOT_CASES } from "./snapshots/cases.ts";
import { VOLUME_MODE_CASES } from "./volume-mode/cases.ts";
import { BINDING_CASES } from "./binding/cases.ts";
import { CAPACITY_CASES } from "./capacity/cases.ts";
import { CHAOS_CASES } from "./chaos/cases.ts";
import { SHUTDOWN_CASES } from "./chaos/shutdown-cases.ts";
import { INSTALL_CASES } from "./install/cases.ts";
import { LIMIT_CASES } from "./limits/cases.ts";
import { LOCAL_PV_CASES } from "./local-pv/cases.ts";
import { PROVISIONING_CASES } from "./provisioning/cases.ts";
import { RECLAIM_CASES } from "./reclaim/cases.ts";

export interface CatalogEntry {
  id: string;
  /** The ID's prefix ("DP"). */
  area: string;
  title: string;
  /** Run once per driver (false: once per cluster). */
  perDriver: boolean;
  meta?: CaseMeta;
}

/** Areas and what they cover, in report order. */
export const AREAS: Record<string, string> = {
  SMOKE: "cluster smoke",
  IN: "installation",
  ED: "emptyDir sharing",
  AM: "access modes",
  BD: "PVC binding",
  DP: "dynamic provisioning",
  RP: "reclaim policy",
  LP: "local PV scheduling",
  AT: "attach and detach",
  EX: "volume expansion",
  VM: "volume mode",
  SN: "snapshots and clones",
  LM: "volume limits",
  CA: "storage capacity",
  NF: "node failure and chaos",
};

const CLUSTER_CASES: [string, string][] = [
  ["SMOKE-01", "every node is Ready and runs the pinned Kubernetes version"],
  ["SMOKE-02", "CoreDNS is Ready"],
  ["SMOKE-03", "a workload pod with an emptyDir runs on each worker and its data check passes"],
  ["SMOKE-04", "a pod resolves kubernetes.default through cluster DNS"],
  ["ED-01", "two containers share an emptyDir at different mount paths"],
  ["ED-02", "an init container writes, the app container reads"],
  ["ED-03", "medium Memory is tmpfs and sizeLimit caps it"],
  ["ED-04", "mode, ownership and fsGroup"],
  ["ED-05", "content is gone after the pod is deleted and re-created"],
];

const DRIVER_CASES = [
  ...INSTALL_CASES,
  ...ACCESS_MODE_CASES,
  ...BINDING_CASES,
  ...PROVISIONING_CASES,
  ...RECLAIM_CASES,
  ...LOCAL_PV_CASES,
  ...ATTACH_CASES,
  ...EXPANSION_CASES,
  ...VOLUME_MODE_CASES,
  ...SNAPSHOT_CASES,
  ...LIMIT_CASES,
  ...CAPACITY_CASES,
  ...CHAOS_CASES,
  ...SHUTDOWN_CASES,
];

const areaOf = (id: string) => id.split("-")[0] as string;

export const CATALOG: readonly CatalogEntry[] = [
  ...CLUSTER_CASES.map(([id, title]) => ({ id, area: areaOf(id), title, perDriver: false })),
  ...DRIVER_CASES.map((c) => ({
    id: c.meta.id,
    area: areaOf(c.meta.id),
    title: c.meta.title,
    perDriver: true,
    meta: c.meta,
  })),
].sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));

/** Self-test IDs (volcert's own tests, `volcert test` only): "SELF" selects them all. */
export const SELF_AREA = "SELF";
