import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { LIMIT_CASES } from "./cases.ts";

describe("LM volume limits", () => {
  registerCases(LIMIT_CASES, selectedDrivers());
});
