import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { EXPANSION_CASES } from "./cases.ts";

describe("EX volume expansion", () => {
  registerCases(EXPANSION_CASES, selectedDrivers());
});
