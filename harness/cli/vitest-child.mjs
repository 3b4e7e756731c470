// The Vitest child process of a volcert run (harness/cli/vitest-runner.ts): registers the
// TypeScript loader, then runs harness/cli/vitest-child.ts.
import { register } from "tsx/esm/api";

register();
const { childMain } = await import("./vitest-child.ts");
process.exitCode = await childMain(process.argv[2] ?? "");
