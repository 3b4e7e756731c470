import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { SNAPSHOT_CASES } from "./cases.ts";

describe("SN snapshots and clones", () => {
  registerCases(SNAPSHOT_CASES, selectedDrivers());
});
