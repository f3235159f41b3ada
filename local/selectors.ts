/**
 * Kubernetes label and field selectors, parsed once per request and matched against objects.
 *
 * Unsupported fields and malformed expressions raise a 400 {@link ApiError}.
 */

import { badRequest } from "./api_status.ts";

/** A predicate over a Kubernetes object. */
export type Selector = (obj: Record<string, unknown>) => boolean;

type LabelRequirement =
  | { op: "=" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] }
  | { op: "exists" | "!exists"; key: string };

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

const KEY =
  /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function requireKey(key: string, selector: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  if (selector === "") throw badRequest("empty label selector");
  return key;
}

function parseRequirement(text: string): LabelRequirement {
  let m = text.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/);
  if (m) {
    const values = m[3].split(",").map((v) => v.trim()).filter((v) => v !== "");
    return { op: m[2] as "in" | "notin", key: requireKey(m[1], text), values };
  }
  m = text.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/);
  if (m) {
    return { op: m[2] === "!=" ? "!=" : "=", key: requireKey(m[1], text), value: m[3] };
  }
  m = text.match(/^!\s*(\S+)$/);
  if (m) return { op: "!exists", key: requireKey(m[1], text) };
  if (/^\S+$/.test(text)) return { op: "exists", key: requireKey(text, text) };
  throw badRequest(`unable to parse requirement: ${text}`);
}

/** Parses `labelSelector` (=, ==, !=, in, notin, key, !key). */
export function parseLabelSelector(text: string | null): Selector {
  if (!text || !text.trim()) return () => true;
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (obj) => {
    const labels = ((obj.metadata as Record<string, unknown>)?.labels ?? {}) as Record<
      string,
      string
    >;
    return requirements.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const value = labels[r.key];
      switch (r.op) {
        case "=":
          return has && value === r.value;
        case "!=":
          return !has || value !== r.value;
        case "in":
          return has && r.values.includes(value);
        case "notin":
          return !has || !r.values.includes(value);
        case "exists":
          return has;
        case "!exists":
          return !has;
      }
    });
  };
}

/** Reads a dotted path (`status.connectionDetails.publicKey.id`) from an object. */
export function readPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Parses `fieldSelector`: `metadata.name`, `metadata.namespace` and the kind's selectable
 * fields, with `=`, `==` and `!=`.
 */
export function parseFieldSelector(text: string | null, selectable: string[]): Selector {
  if (!text || !text.trim()) return () => true;
  const allowed = new Set(["metadata.name", "metadata.namespace", ...selectable]);
  const requirements = splitTopLevel(text).map((part) => {
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (!allowed.has(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, negate: m[2] === "!=", value: m[3].trim() };
  });
  return (obj) =>
    requirements.every((r) => {
      const raw = readPath(obj, r.field);
      const value = raw === undefined || raw === null ? "" : String(raw);
      return r.negate ? value !== r.value : value === r.value;
    });
}
