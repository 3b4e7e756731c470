import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { ATTACH_CASES } from "./cases.ts";

describe("AT attach and detach", () => {
  registerCases(ATTACH_CASES, selectedDrivers());
});
