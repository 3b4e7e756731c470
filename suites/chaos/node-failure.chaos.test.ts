import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { CHAOS_CASES } from "./cases.ts";

describe("NF node failure", () => {
  registerCases(CHAOS_CASES, selectedDrivers());
});
