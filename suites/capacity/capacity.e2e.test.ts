import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { CAPACITY_CASES } from "./cases.ts";

describe("CA storage capacity", () => {
  registerCases(CAPACITY_CASES, selectedDrivers());
});
