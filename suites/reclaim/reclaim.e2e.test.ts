import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { RECLAIM_CASES } from "./cases.ts";

describe("RP reclaim policies", () => {
  registerCases(RECLAIM_CASES, selectedDrivers());
});
