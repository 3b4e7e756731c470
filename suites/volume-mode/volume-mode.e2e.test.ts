import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { VOLUME_MODE_CASES } from "./cases.ts";

describe("VM volume mode", () => {
  registerCases(VOLUME_MODE_CASES, selectedDrivers());
});
