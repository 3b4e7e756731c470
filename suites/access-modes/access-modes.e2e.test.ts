import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { ACCESS_MODE_CASES } from "./cases.ts";

describe("AM access modes", () => {
  registerCases(ACCESS_MODE_CASES, selectedDrivers());
});
