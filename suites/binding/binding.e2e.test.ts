import { describe } from "vitest";
import { registerCases } from "../support/case.ts";
import { selectedDrivers } from "../support/drivers.ts";
import { BINDING_CASES } from "./cases.ts";

describe("BD PVC binding", () => {
  registerCases(BINDING_CASES, selectedDrivers());
});
