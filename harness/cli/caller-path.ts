/**
 * Paths the user typed are relative to the directory they typed them in. `npm run`/`npm start`
 * change the working directory to the package root and keep the caller's in INIT_CWD, so that is
 * where relative paths resolve when volcert runs under npm.
 */
import { resolve } from "node:path";

export function callerDir(): string {
  return process.env["npm_lifecycle_event"] && process.env["INIT_CWD"] ? process.env["INIT_CWD"] : process.cwd();
}

export function callerPath(p: string): string {
  return resolve(callerDir(), p);
}

/** A --driver argument that names a path rather than a reference driver. */
export function looksLikePath(arg: string): boolean {
  return arg.includes("/") || /\.(ya?ml)$/i.test(arg) || arg === "." || arg === "..";
}
