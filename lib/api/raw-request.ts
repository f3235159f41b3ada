/**
 * `datumctl api PATH`: one authenticated request to any path of a control plane, as `gh api`
 * makes them: fields become a JSON body (or the query of a GET), headers and a raw body may be
 * given, and lists can be followed page by page through `metadata.continue`.
 *
 * Fields come from `-f`/`-F` and headers from `-H 'K: V'`. The request goes through
 * {@link ApiClient}, so it gets the bearer, one refresh on 401 and the retries of idempotent
 * methods.
 */
import type { ApiClient, Query } from "./client.ts";
import { apiErrorFromBadBody } from "./errors.ts";
import { UsageError } from "../core/errors.ts";

/** One `-f key=value` (string) or `-F key=value` (typed) field, in the order given. */
export interface Field {
  raw: string;
  typed: boolean;
}

/** What `api PATH` sends. */
export interface RawRequest {
  method: string;
  path: string;
  /** The body as sent: a string (from `--input`) or a value encoded as JSON (from fields). */
  body?: unknown;
  /** Query parameters (the fields of a GET). */
  query?: Query;
  headers: Record<string, string>;
  /** Follow `metadata.continue` and return one list with every page's items. */
  paginate?: boolean;
}

/** What the server answered. */
export interface RawResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** The body as text (all pages' items merged when paginating). */
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

function typedValue(value: string, readFile: (path: string) => string): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  if (value === "null") return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value.startsWith("@")) return readFile(value.slice(1));
  return value;
}

/** Splits `a[b][]` into `["a", "b", ""]`; a plain key is one part. */
function keyParts(key: string): string[] {
  const m = key.match(/^([^[\]]+)((?:\[[^[\]]*\])*)$/);
  if (!m) {
    throw new UsageError(
      `invalid field key "${key}"`,
      "Use key=value, nested keys as parent[child]=value, array items as key[]=value.",
    );
  }
  const parts = [m[1]];
  for (const inner of m[2].matchAll(/\[([^[\]]*)\]/g)) parts.push(inner[1]);
  return parts;
}

/**
 * Turns `-f`/`-F` fields into one object. `-f` values stay strings; `-F` values are read as
 * `true`/`false`/`null`/numbers, and `@file` reads a file (`@-` stdin). Keys nest with brackets
 * (`metadata[labels][app]=web`) and `key[]=v` appends to an array.
 */
export function parseFields(
  fields: Field[],
  readFile: (path: string) => string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const eq = field.raw.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(
        `field "${field.raw}" is not key=value`,
        "Example: -f metadata[name]=web -F spec[replicas]=2",
      );
    }
    const parts = keyParts(field.raw.slice(0, eq));
    const rawValue = field.raw.slice(eq + 1);
    const value = field.typed ? typedValue(rawValue, readFile) : rawValue;
    let node: Record<string, unknown> | unknown[] = out;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const last = i === parts.length - 1;
      const nextIsArray = !last && parts[i + 1] === "";
      if (Array.isArray(node)) {
        if (part !== "") throw new UsageError(`field "${field.raw}" mixes arrays and objects`);
        if (last) node.push(value);
        else {
          const child = nextIsArray ? [] : {};
          node.push(child);
          node = child;
        }
        continue;
      }
      if (part === "") throw new UsageError(`field "${field.raw}" has an empty key`);
      if (last) {
        node[part] = value;
        continue;
      }
      const existing = node[part];
      const wanted = nextIsArray ? Array.isArray(existing) : isRecord(existing);
      if (!wanted) node[part] = nextIsArray ? [] : {};
      node = node[part] as Record<string, unknown> | unknown[];
    }
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses `-H 'Name: value'`. */
export function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(":");
  if (colon <= 0) {
    throw new UsageError(
      `header "${raw}" is not Name: value`,
      "Example: -H 'Content-Type: application/merge-patch+json'",
    );
  }
  return [raw.slice(0, colon).trim(), raw.slice(colon + 1).trim()];
}

/** Fields as a GET query: nested values are sent as JSON. */
export function fieldsAsQuery(fields: Record<string, unknown>): Query {
  const query: Query = {};
  for (const [key, value] of Object.entries(fields)) {
    query[key] = typeof value === "object" && value !== null
      ? JSON.stringify(value)
      : String(value);
  }
  return query;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends the request and returns the answer. A non-2xx answer is thrown as the API's error (its
 * Status message and exit code). With `paginate`, a list's `metadata.continue` is followed and
 * the items of every page are returned in one list.
 */
export async function sendRawRequest(client: ApiClient, req: RawRequest): Promise<RawResponse> {
  const response = await client.request(req.method, req.path, {
    body: req.body,
    query: req.query,
    headers: req.headers,
    contentType: req.headers["content-type"] ?? req.headers["Content-Type"],
  });
  const text = await response.text();
  const answer: RawResponse = {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers.entries()],
    text,
    json: parseJson(text),
  };
  if (!req.paginate || req.method !== "GET") return answer;
  let next = continueOf(answer.json);
  if (next === undefined) return answer;
  const items = [...(answer.json as { items: unknown[] }).items];
  while (next) {
    const page = await client.request("GET", req.path, {
      query: { ...req.query, continue: next },
      headers: req.headers,
    });
    const pageText = await page.text();
    const parsed = parseJson(pageText);
    if (!isRecord(parsed) || !Array.isArray(parsed.items)) {
      throw apiErrorFromBadBody("GET", client.url(req.path), new Error("a page is not a list"));
    }
    items.push(...parsed.items);
    next = continueOf(parsed);
  }
  const merged: Record<string, unknown> = { ...(answer.json as Record<string, unknown>), items };
  const metadata = isRecord(merged.metadata) ? { ...merged.metadata } : {};
  delete metadata.continue;
  delete metadata.remainingItemCount;
  merged.metadata = metadata;
  return { ...answer, text: JSON.stringify(merged), json: merged };
}

/** A list's continue token ("" or absent on the last page), or undefined for a non-list. */
function continueOf(value: unknown): string | undefined {
  if (!isRecord(value) || !Array.isArray(value.items)) return undefined;
  const meta = value.metadata;
  return isRecord(meta) && typeof meta.continue === "string" ? meta.continue : "";
}
