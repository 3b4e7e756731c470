import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { INSTALL_CASES } from "./cases.ts";

describe("IN driver installation", () => {
  registerCases(INSTALL_CASES, selectedDrivers());
});
