import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { INSTALL_CASES } from "./cases.ts";

describe("IN driver installation", () => {
  registerCases(INSTALL_CASES, selectedDrivers());
});
