/**
 * Turns zod issues into a list of problems a person can act on: the path of each problem, and for
 * unknown keys the closest valid key. All problems are reported at once.
 */
import type { z } from "zod";
import { closest } from "./suggest.ts";

type AnySchema = z.ZodType;

interface ZodDefLike {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  element?: AnySchema;
  in?: AnySchema;
  schema?: AnySchema;
}

function def(s: AnySchema): ZodDefLike {
  return (s as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

/** Keys the object schema at `path` accepts (unwrapping optional/default/array/pipe). */
export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let cur: AnySchema | undefined = schema;
  const unwrap = () => {
    for (let guard = 0; cur && guard < 20; guard++) {
      const d = def(cur);
      if (d.innerType) cur = d.innerType;
      else if (d.type === "pipe" && d.in) cur = d.in;
      else break;
    }
  };
  for (const seg of path) {
    unwrap();
    if (!cur) return [];
    const d = def(cur);
    if (typeof seg === "number") cur = d.element;
    else cur = d.shape?.[String(seg)];
  }
  unwrap();
  return cur ? Object.keys(def(cur).shape ?? {}) : [];
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)),
    "",
  );
}

export function describeIssues(schema: AnySchema, issues: readonly z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const where = formatPath([...issue.path, key]);
        const hint = closest(key, known);
        problems.push(
          `${where}: unknown key${hint ? `; did you mean "${hint}"?` : known.length ? ` (valid keys: ${known.join(", ")})` : ""}`,
        );
      }
    } else if (issue.code === "invalid_key") {
      // A record key that fails its own schema: say which key and why, not just "Invalid key in record".
      const where = formatPath(issue.path.slice(0, -1));
      const key = String(issue.path.at(-1));
      for (const inner of issue.issues) problems.push(`${where}: key ${JSON.stringify(key)}: ${inner.message}`);
    } else {
      problems.push(`${formatPath(issue.path) || "(file)"}: ${issue.message}`);
    }
  }
  return problems;
}
