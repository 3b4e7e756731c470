import { describe } from "vitest";
import { registerCases } from "../../harness/case/runtime.ts";
import { selectedDrivers } from "../../harness/case/run-context.ts";
import { CHAOS_CASES } from "./cases.ts";
import { SHUTDOWN_CASES } from "./shutdown-cases.ts";

describe("NF node failure", () => {
  registerCases(
    [...CHAOS_CASES, ...SHUTDOWN_CASES].sort((a, b) => a.meta.id.localeCompare(b.meta.id)),
    selectedDrivers(),
  );
});
