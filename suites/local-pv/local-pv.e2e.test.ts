import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { LOCAL_PV_CASES } from "./cases.ts";

describe("LP local PV scheduling", () => {
  registerCases(LOCAL_PV_CASES, selectedDrivers());
});
