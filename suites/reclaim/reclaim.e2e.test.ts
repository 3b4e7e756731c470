import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { RECLAIM_CASES } from "./cases.ts";

describe("RP reclaim policies", () => {
  registerCases(RECLAIM_CASES, selectedDrivers());
});
