/**
 * The Markdown reference of driver definition files (docs/driver-reference.md), generated from the
 * JSON Schema (json-schema.ts), so it says exactly what the schema and its descriptions say: a
 * section and a table per object (field, type, default, required, description), enums listed,
 * and the rules of the node path placeholders.
 */
import { driverJsonSchema } from "./json-schema.ts";
import { CLEANUP_PLACEHOLDERS, SYSTEM_DIRECTORIES, VOLUME_DATA_PLACEHOLDERS } from "./schema.ts";

/** The part of JSON Schema the generated driver schema uses. */
interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

interface Section {
  path: string;
  schema: Schema;
  /** The object's own description, or its list's (for the items of a list). */
  description: string;
}

export const REFERENCE_COMMAND = "npm run -s volcert -- drivers reference > docs/driver-reference.md";

const anchor = (path: string) =>
  path
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "driver-file";
const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
/** Text as Markdown shows it literally: "<vendor>" must not become an HTML tag. */
const text = (t: string) => t.replace(/</g, "&lt;").replace(/>/g, "&gt;");
const cell = (t: string) => text(t).replace(/\|/g, "\\|").replace(/\n/g, "<br>");
/** An object with fields of its own (a map of free keys is not). */
const isObject = (s: Schema | undefined): boolean => !!s?.properties;

/** Every object of the schema with its own table, parents first. */
function sections(schema: Schema, path = "", description = schema.description ?? ""): Section[] {
  const out: Section[] = [{ path, schema, description }];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const at = path ? `${path}.${key}` : key;
    if (isObject(prop)) out.push(...sections(prop, at));
    else if (prop.items && isObject(prop.items)) out.push(...sections(prop.items, `${at}[]`, prop.description));
  }
  return out;
}

function limits(s: Schema): string[] {
  const l: string[] = [];
  if (s.minLength !== undefined && s.minLength > 0) l.push(`not empty`);
  if (s.maxLength !== undefined) l.push(`≤ ${s.maxLength} characters`);
  if (s.exclusiveMinimum !== undefined) l.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) l.push(`≤ ${s.maximum}`);
  if (s.minItems !== undefined) l.push(`at least ${s.minItems} ${s.minItems === 1 ? "entry" : "entries"}`);
  return l;
}

function typeOf(s: Schema, path: string): string {
  const more = limits(s);
  const withLimits = (t: string) => (more.length ? `${t} (${more.join(", ")})` : t);
  if (s.const !== undefined) return `always ${code(s.const)}`;
  if (s.enum) return `one of ${s.enum.map(code).join(", ")}`;
  if (isObject(s)) return `object, see [${path}](#${anchor(path)})`;
  if (s.type === "object" && typeof s.additionalProperties === "object")
    return `map of string to ${typeOf(s.additionalProperties, path)}`;
  if (s.type === "array" && s.items) {
    const item = isObject(s.items) ? `objects, see [${path}[]](#${anchor(`${path}[]`)})` : typeOf(s.items, path);
    return more.length ? `list of ${item}; ${more.join(", ")}` : `list of ${item}`;
  }
  if (s.anyOf) return s.anyOf.map((a) => typeOf(a, path)).join(" or ");
  return withLimits(s.type ?? "any");
}

/** A Markdown table with its columns padded to equal width (as prettier lays tables out). */
function grid(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

function table(section: Section): string[] {
  const rows = Object.entries(section.schema.properties ?? {}).map(([key, prop]) => {
    const at = section.path ? `${section.path}.${key}` : key;
    const required = section.schema.required?.includes(key) ? "yes" : "no";
    const dflt = prop.default === undefined ? "" : code(prop.default);
    return [`\`${key}\``, cell(typeOf(prop, at)), cell(dflt), required, cell(prop.description ?? "")];
  });
  return grid(["field", "type", "default", "required", "description"], rows);
}

function placeholderSection(): string[] {
  const list = (p: Record<string, string>, where: string) =>
    grid(
      ["placeholder", `in \`${where}\``],
      Object.entries(p).map(([k, v]) => [`\`${k}\``, cell(v)]),
    );
  return [
    "## Node path placeholders",
    "",
    "`spec.volumeDataPaths` and `spec.flexVolume.cleanupPaths` are templates of paths on the nodes, one per volume. volcert fills in the placeholders for each volume:",
    "",
    ...list(VOLUME_DATA_PLACEHOLDERS, "spec.volumeDataPaths"),
    "",
    ...list(CLEANUP_PLACEHOLDERS, "spec.flexVolume.cleanupPaths"),
    "",
    "Rules, each checked when the file is loaded (all problems are listed at once):",
    "",
    "- a path is absolute and contains at least one of its placeholders: a fixed path would be the same for every volume, so the data-deletion check (or the `rm -rf` of `cleanupPaths`) would target a path all volumes share;",
    "- no other placeholder: `{volumeHandel}` or `{x}` is an error that lists the known ones;",
    "- no `..` segment;",
    `- with its placeholders empty the path must not be a system directory: ${SYSTEM_DIRECTORIES.map((d) => `\`${d}\``).join(", ")}. For example \`/var/lib/kubelet/{pv}\` is rejected, \`/var/lib/acme-csi/{volumeHandle}\` is fine.`,
    "",
  ];
}

export function driverReferenceMarkdown(): string {
  const schema = driverJsonSchema() as Schema;
  const all = sections(schema);
  const lines = [
    "# Driver file reference",
    "",
    `<!-- Generated from harness/drivers/schema.ts; do not edit. Regenerate: ${REFERENCE_COMMAND} -->`,
    "",
    "A driver file (`driver.yaml`) tells volcert how to install one storage driver and what it supports. Unknown keys are errors; `npm run volcert -- drivers validate <file>` lists every problem of a file at once. Editors validate and complete it with the JSON Schema `fixtures/drivers/driver.schema.json` (`npm run volcert -- drivers schema`), e.g. with the first line `# yaml-language-server: $schema=<path to driver.schema.json>`.",
    "",
    "Contents:",
    "",
    ...all.map((s) => `- [${s.path || "driver file"}](#${anchor(s.path)})`),
    "- [Node path placeholders](#node-path-placeholders)",
    "",
  ];
  for (const s of all) {
    lines.push(`<a id="${anchor(s.path)}"></a>`, "", `## ${s.path ? `\`${s.path}\`` : "Driver file"}`, "");
    if (s.description) lines.push(text(s.description), "");
    lines.push(...table(s), "");
  }
  lines.push(...placeholderSection());
  return `${lines.join("\n").trimEnd()}\n`;
}
