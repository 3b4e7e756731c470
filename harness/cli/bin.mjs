#!/usr/bin/env node
// volcert CLI entry: registers the TypeScript loader, then runs harness/cli/main.ts.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
