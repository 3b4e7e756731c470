import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { LOCAL_PV_CASES } from "./cases.ts";

describe("LP local PV scheduling", () => {
  registerCases(LOCAL_PV_CASES, selectedDrivers());
});
