import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { PROVISIONING_CASES } from "./cases.ts";

describe("DP dynamic provisioning", () => {
  registerCases(PROVISIONING_CASES, selectedDrivers());
});
