import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { ACCESS_MODE_CASES } from "./cases.ts";

describe("AM access modes", () => {
  registerCases(ACCESS_MODE_CASES, selectedDrivers());
});
