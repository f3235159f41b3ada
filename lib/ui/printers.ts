/**
 * kubectl's printers for resource verbs: server-side Tables, `-o name`, `-o jsonpath=…`,
 * `-o custom-columns=…`, JSON/YAML of one object or a `List`, and `describe`.
 *
 * Every printer returns a string; commands write it through the IO.
 *
 * What a person reads (tables, describe) is sanitised for the terminal; what a program reads
 * (`-o json|yaml|name|jsonpath`) is the exact data.
 */
import { renderTable, type TableOptions } from "./table.ts";
import { sanitizeForTerminal } from "./terminal-text.ts";
import { UsageError } from "../core/errors.ts";
import type { JsonPathTemplate } from "../resources/jsonpath.ts";
import {
  formatJsonPathValue,
  groupOf,
  humanAge,
  isPlainObject,
  type KubeObject,
  type KubeTable,
  objectRefName,
  type TableColumn,
} from "../resources/objects.ts";

/** A parsed `-o` of the resource verbs. */
export type ResourceOutput =
  | { kind: "table" | "wide" | "json" | "yaml" | "name" }
  | { kind: "jsonpath"; template: JsonPathTemplate }
  | { kind: "custom-columns"; columns: { header: string; path: JsonPathTemplate }[] };

const SIMPLE = ["table", "wide", "json", "yaml", "name"] as const;

/**
 * Parses `-o` (`json`, `yaml`, `wide`, `name`, `jsonpath=…`, `custom-columns=…`, …). The JSONPath
 * parser (16 KB) is loaded only for the formats that carry a template, so a plain listing runs
 * without it.
 */
export async function parseResourceOutput(value: string | undefined): Promise<ResourceOutput> {
  if (value === undefined || value === "") return { kind: "table" };
  if ((SIMPLE as readonly string[]).includes(value)) {
    return { kind: value as (typeof SIMPLE)[number] };
  }
  const eq = value.indexOf("=");
  const name = eq < 0 ? value : value.slice(0, eq);
  const arg = eq < 0 ? "" : value.slice(eq + 1);
  if (name === "jsonpath" || name === "jsonpath-as-json") {
    if (!arg) {
      throw new UsageError("jsonpath needs a template", "Example: -o jsonpath='{.metadata.name}'");
    }
    const { parseJsonPathTemplate } = await import("../resources/jsonpath.ts");
    return { kind: "jsonpath", template: parseJsonPathTemplate(arg) };
  }
  if (name === "custom-columns") {
    if (!arg) {
      throw new UsageError(
        "custom-columns needs at least one column",
        "Example: -o custom-columns=NAME:.metadata.name,READY:.status.conditions[0].status",
      );
    }
    const { parseJsonPathExpression } = await import("../resources/jsonpath.ts");
    const columns = splitColumns(arg).map((spec) => {
      const colon = spec.indexOf(":");
      if (colon <= 0) {
        throw new UsageError(
          `custom column "${spec}" is not HEADER:JSONPATH`,
          "Example: -o custom-columns=NAME:.metadata.name",
        );
      }
      return {
        header: spec.slice(0, colon),
        path: parseJsonPathExpression(spec.slice(colon + 1)),
      };
    });
    return { kind: "custom-columns", columns };
  }
  throw new UsageError(
    `unknown output format "${value}"`,
    "Use one of: json, yaml, wide, name, jsonpath=TEMPLATE, custom-columns=SPEC.",
  );
}

/** Splits custom-column specs on commas that are not inside brackets or quotes. */
function splitColumns(spec: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = "";
  for (const c of spec) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  if (current) out.push(current);
  return out;
}

/** A `List` wrapping objects, as kubectl prints several objects with `-o json|yaml`. */
export function asList(objects: KubeObject[]): KubeObject {
  return { apiVersion: "v1", kind: "List", items: objects, metadata: { resourceVersion: "" } };
}

/** The `-o name` line of an object. */
export function nameLine(object: KubeObject): string {
  return objectRefName(object.kind ?? "", groupOf(object.apiVersion), object.metadata?.name ?? "");
}

/**
 * Renders objects for every non-table output. `single` = the user named exactly one object, so
 * JSON/YAML/jsonpath see the object itself rather than a `List`.
 */
export async function printObjects(
  objects: KubeObject[],
  output: ResourceOutput,
  single: boolean,
  options: TableOptions = {},
): Promise<string> {
  const data = single && objects.length === 1 ? objects[0] : asList(objects);
  switch (output.kind) {
    // The structured printer is loaded only for these two, so a table listing runs without it.
    case "json":
      return (await import("./output.ts")).renderStructured(data, "json");
    case "yaml":
      return (await import("./output.ts")).renderStructured(data, "yaml");
    case "name":
      return objects.map((o) => `${nameLine(o)}\n`).join("");
    case "jsonpath":
      return output.template.execute(data);
    case "custom-columns": {
      const rows = objects.map((o) =>
        output.columns.map((c) => {
          const values = c.path.values(o);
          return values.length === 0 ? "<none>" : values.map(formatJsonPathValue).join(",");
        })
      );
      return await renderTable(output.columns.map((c) => c.header), rows, options);
    }
    default:
      throw new Error(`printObjects cannot render ${output.kind}`);
  }
}

/** Options for turning a Table into lines. */
export interface TableViewOptions {
  /** Show priority > 0 columns (`-o wide`). */
  wide?: boolean;
  /** Append a LABELS column from the rows' object metadata. */
  showLabels?: boolean;
  /** Prepend a NAMESPACE column (`-A`). */
  showNamespace?: boolean;
  /** Prefix names with `kind.group/` (several types in one `get`). */
  kindPrefix?: string;
  now?: number;
}

function cellText(value: unknown, column: TableColumn | undefined, now: number): string {
  if (value === null || value === undefined) return "<none>";
  if (typeof value === "string") {
    // A server that sends raw timestamps in date columns still gets kubectl's AGE look.
    if (column?.type === "date" && /^\d{4}-\d\d-\d\dT/.test(value)) return humanAge(value, now);
    const newline = value.indexOf("\n");
    return newline >= 0 ? `${value.slice(0, newline)}...` : value;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function labelsText(object: KubeObject | undefined): string {
  const labels = object?.metadata?.labels;
  if (!labels || Object.keys(labels).length === 0) return "<none>";
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
}

/** The header and rows of a Table as the user asked to see them. */
export function tableLines(
  table: KubeTable,
  options: TableViewOptions = {},
): { headers: string[]; rows: string[][] } {
  const now = options.now ?? Date.now();
  const shown = table.columnDefinitions
    .map((column, index) => ({ column, index }))
    .filter(({ column }) => options.wide || !column.priority);
  const headers = shown.map(({ column }) => column.name.toUpperCase());
  const nameColumn = shown.findIndex(({ column }) =>
    column.format === "name" || column.name.toLowerCase() === "name"
  );
  const rows = table.rows.map((row) => {
    const cells = shown.map(({ column, index }) => cellText(row.cells[index], column, now));
    if (options.kindPrefix && nameColumn >= 0) {
      cells[nameColumn] = `${options.kindPrefix}/${cells[nameColumn]}`;
    }
    if (options.showNamespace) cells.unshift(row.object?.metadata?.namespace ?? "");
    if (options.showLabels) cells.push(labelsText(row.object));
    return cells;
  });
  if (options.showNamespace) headers.unshift("NAMESPACE");
  if (options.showLabels) headers.push("LABELS");
  return { headers, rows };
}

/** Renders a Table as kubectl does (upper-case headers, aligned columns). */
export async function renderTableView(
  table: KubeTable,
  options: TableViewOptions = {},
): Promise<string> {
  const { headers, rows } = tableLines(table, options);
  return await renderTable(headers, rows);
}

/** `someFieldName` → `Some Field Name`, the way kubectl's generic describer titles keys. */
function titleCase(key: string): string {
  const spaced = sanitizeForTerminal(key)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function mapLines(map: Record<string, string> | undefined, indent: string): string {
  if (!map || Object.keys(map).length === 0) return "<none>\n";
  return Object.entries(map)
    .map(([k, v], i) => `${i === 0 ? "" : indent}${sanitizeForTerminal(k)}=${v}\n`)
    .join("");
}

function describeValue(value: unknown, depth: number): string {
  const pad = "  ".repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "";
    if (value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
      return value.map((v) => `${pad}${formatJsonPathValue(v)}\n`).join("");
    }
    return value.map((
      v,
    ) => (isPlainObject(v) ? describeFields(v, depth, true) : `${pad}${formatJsonPathValue(v)}\n`))
      .join("");
  }
  if (isPlainObject(value)) return describeFields(value, depth, false);
  return `${pad}${formatJsonPathValue(value)}\n`;
}

function describeFields(object: Record<string, unknown>, depth: number, listItem: boolean): string {
  const entries = Object.entries(object);
  const width = Math.max(0, ...entries.map(([k]) => titleCase(k).length + 1));
  let out = "";
  entries.forEach(([key, value], i) => {
    const indent = "  ".repeat(depth);
    // Items of a list of objects are set apart with a dash on their first key.
    const lead = listItem ? (i === 0 ? `${indent.slice(0, -2)}- ` : indent) : indent;
    const label = `${titleCase(key)}:`;
    if (isPlainObject(value) || (Array.isArray(value) && value.length > 0)) {
      out += `${lead}${label}\n${describeValue(value, depth + 1)}`;
    } else {
      const text = Array.isArray(value) ? "" : formatJsonPathValue(value);
      out += `${lead}${label.padEnd(width)}  ${text}\n`;
    }
  });
  return out;
}

/**
 * kubectl's generic `describe`: name, labels, annotations, then every field, titled. Keys are
 * sanitised as single lines; values may span lines (as multi-line annotations do) but carry no
 * other control character.
 */
export function describeObject(object: KubeObject): string {
  const meta = object.metadata ?? {};
  const { name, namespace, labels, annotations, managedFields: _m, ...restMeta } = meta;
  let out = "";
  out += `Name:         ${name ?? ""}\n`;
  if (namespace) out += `Namespace:    ${namespace}\n`;
  out += `Labels:       ${mapLines(labels, "              ")}`;
  out += `Annotations:  ${mapLines(annotations, "              ")}`;
  out += `API Version:  ${object.apiVersion ?? ""}\n`;
  out += `Kind:         ${object.kind ?? ""}\n`;
  const rest: Record<string, unknown> = {};
  if (Object.keys(restMeta).length > 0) rest.metadata = restMeta;
  for (const [k, v] of Object.entries(object)) {
    if (k !== "apiVersion" && k !== "kind" && k !== "metadata") rest[k] = v;
  }
  out += describeFields(rest, 0, false);
  return sanitizeForTerminal(out, { multiline: true });
}
