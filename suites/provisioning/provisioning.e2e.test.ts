import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { PROVISIONING_CASES } from "./cases.ts";

describe("DP dynamic provisioning", () => {
  registerCases(PROVISIONING_CASES, selectedDrivers());
});
