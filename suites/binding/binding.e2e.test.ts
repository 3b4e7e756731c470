import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { BINDING_CASES } from "./cases.ts";

describe("BD PVC binding", () => {
  registerCases(BINDING_CASES, selectedDrivers());
});
