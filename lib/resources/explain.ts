/**
 * `explain TYPE[.field.path]` from the server's OpenAPI v3 documents.
 *
 * It fetches `/openapi/v3`, then the document of the type's group/version, finds the schema tagged
 * with the type's group/version/kind, walks the field path (through `$ref`, `allOf` and array
 * items) and renders kubectl's explain layout, or with `recursive` the tree of field names and
 * types.
 */
import type { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import type { ResourceType } from "./discovery.ts";
import { isPlainObject } from "./objects.ts";

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  allOf?: Schema[];
  $ref?: string;
  enum?: unknown[];
  format?: string;
  "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string }[];
  [extra: string]: unknown;
}

interface OpenApiDocument {
  components?: { schemas?: Record<string, Schema> };
}

function noSchema(type: ResourceType): CliError {
  return new CliError(
    "NO_SCHEMA",
    `the server publishes no schema for ${type.kind} (${type.group || "core"}/${type.version})`,
    { hint: "Use 'datumctl get … -o yaml' to see an example object.", exitCode: ExitCode.error },
  );
}

/** Fetches the OpenAPI v3 document of a type's group/version. */
async function fetchDocument(client: ApiClient, type: ResourceType): Promise<OpenApiDocument> {
  const key = type.group ? `apis/${type.group}/${type.version}` : `api/${type.version}`;
  let index: { paths?: Record<string, { serverRelativeURL?: string }> };
  try {
    index = await client.get("/openapi/v3");
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 404) throw noSchema(type);
    throw err;
  }
  const entry = index.paths?.[key];
  if (!entry) throw noSchema(type);
  // serverRelativeURL may be relative to the server root (then it repeats the control-plane
  // prefix) or to the control plane (kubectl joins it to the base path): accept both.
  let url = entry.serverRelativeURL ?? `/openapi/v3/${key}`;
  if (!url.startsWith("/")) url = `/${url}`;
  const base = new URL(client.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  if (prefix && url.startsWith(`${prefix}/`)) url = `${base.origin}${url}`;
  return await client.get<OpenApiDocument>(url);
}

function deref(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): Schema | undefined {
  if (!schema || depth > 20) return schema;
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, "");
    const target = doc.components?.schemas?.[name];
    // A field's own description beats the referenced type's.
    return deref(
      doc,
      { ...target, description: schema.description ?? target?.description },
      depth + 1,
    );
  }
  if (schema.allOf && schema.allOf.length > 0) {
    const merged: Schema = { ...schema, allOf: undefined };
    for (const part of schema.allOf) {
      const resolved = deref(doc, part, depth + 1) ?? {};
      merged.type ??= resolved.type;
      merged.properties = { ...resolved.properties, ...merged.properties };
      merged.required = [...(merged.required ?? []), ...(resolved.required ?? [])];
      merged.items ??= resolved.items;
      merged.additionalProperties ??= resolved.additionalProperties;
      merged.description ??= resolved.description;
    }
    return merged;
  }
  return schema;
}

function refName(schema: Schema | undefined): string | undefined {
  const ref = schema?.$ref ?? schema?.allOf?.find((s) => s.$ref)?.$ref;
  return ref ? ref.split("/").pop()!.split(".").pop() : undefined;
}

function typeLabel(doc: OpenApiDocument, raw: Schema | undefined): string {
  const schema = deref(doc, raw);
  if (!schema) return "Object";
  if (schema.type === "array") return `[]${typeLabel(doc, schema.items)}`;
  if (schema.type === "object" || schema.properties) {
    if (!schema.properties && isPlainObject(schema.additionalProperties)) {
      return `map[string]${typeLabel(doc, schema.additionalProperties as Schema)}`;
    }
    return refName(raw) ?? "Object";
  }
  if (schema.type === "string" && schema.format === "int-or-string") return "IntOrString";
  if (schema["x-kubernetes-int-or-string"]) return "IntOrString";
  return schema.type ?? refName(raw) ?? "Object";
}

/** The schema whose fields a path segment indexes into (arrays and maps unwrap). */
function fieldsHolder(doc: OpenApiDocument, raw: Schema | undefined): Schema | undefined {
  let schema = deref(doc, raw);
  for (let i = 0; i < 5 && schema; i++) {
    if (schema.type === "array") schema = deref(doc, schema.items);
    else if (!schema.properties && isPlainObject(schema.additionalProperties)) {
      schema = deref(doc, schema.additionalProperties as Schema);
    } else break;
  }
  return schema;
}

function wrap(text: string, indent: string, width = 80): string {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    if (paragraph.trim() === "") {
      out.push("");
      continue;
    }
    let line = "";
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(indent + line);
  }
  return out.join("\n").replace(/\n+$/, "") + "\n";
}

function fieldList(doc: OpenApiDocument, schema: Schema): string {
  const required = new Set(schema.required ?? []);
  let out = "";
  for (const name of Object.keys(schema.properties ?? {}).sort()) {
    const field = schema.properties![name];
    const resolved = deref(doc, field);
    out += `  ${name}\t<${typeLabel(doc, field)}>${required.has(name) ? " -required-" : ""}\n`;
    const description = resolved?.description?.trim();
    out += description ? wrap(description, "    ") : "    <no description>\n";
    if (resolved?.enum) out += `    enum: ${resolved.enum.map(String).join(", ")}\n`;
    out += "\n";
  }
  return out;
}

function recursiveTree(
  doc: OpenApiDocument,
  schema: Schema | undefined,
  depth: number,
  seen: Set<Schema>,
): string {
  const holder = fieldsHolder(doc, schema);
  if (!holder?.properties || depth > 15 || seen.has(holder)) return "";
  seen.add(holder);
  const required = new Set(holder.required ?? []);
  let out = "";
  for (const name of Object.keys(holder.properties).sort()) {
    const field = holder.properties[name];
    out += `${"  ".repeat(depth)}${name}\t<${typeLabel(doc, field)}>${
      required.has(name) ? " -required-" : ""
    }\n`;
    out += recursiveTree(doc, field, depth + 1, seen);
  }
  seen.delete(holder);
  return out;
}

/**
 * Explains a type or one of its fields (`fieldPath` = the segments after the type, e.g.
 * `["spec", "connection"]`) in kubectl's layout.
 */
export async function explainType(
  client: ApiClient,
  type: ResourceType,
  fieldPath: string[],
  options: { recursive?: boolean } = {},
): Promise<string> {
  const doc = await fetchDocument(client, type);
  const root = Object.values(doc.components?.schemas ?? {}).find((s) =>
    s["x-kubernetes-group-version-kind"]?.some((gvk) =>
      gvk.group === type.group && gvk.version === type.version && gvk.kind === type.kind
    )
  );
  if (!root) throw noSchema(type);

  let raw: Schema | undefined = root;
  const walked: string[] = [];
  for (const segment of fieldPath) {
    const holder = fieldsHolder(doc, raw);
    const next = holder?.properties?.[segment];
    if (!next) {
      throw new CliError(
        "FIELD_NOT_FOUND",
        `field "${segment}" does not exist in ${[type.plural, ...walked].join(".")}`,
        {
          hint: holder?.properties
            ? `Fields there: ${Object.keys(holder.properties).sort().join(", ")}.`
            : "That field has no sub-fields.",
          exitCode: ExitCode.error,
        },
      );
    }
    walked.push(segment);
    raw = next;
  }

  const schema = deref(doc, raw)!;
  let out = `GROUP:      ${type.group}\nKIND:       ${type.kind}\nVERSION:    ${type.version}\n\n`;
  if (walked.length > 0) out += `FIELD: ${walked[walked.length - 1]} <${typeLabel(doc, raw)}>\n\n`;
  const description = schema.description?.trim();
  out += `DESCRIPTION:\n${description ? wrap(description, "    ") : "    <empty>\n"}`;
  if (schema.enum) out += `    enum: ${schema.enum.map(String).join(", ")}\n`;
  const holder = fieldsHolder(doc, raw);
  if (holder?.properties && Object.keys(holder.properties).length > 0) {
    out += "\nFIELDS:\n";
    out += options.recursive ? recursiveTree(doc, raw, 1, new Set()) : fieldList(doc, holder);
  }
  return out.replace(/\n+$/, "\n");
}
