/**
 * Object plumbing for the emulator: deep equality, JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and the field sets server-side apply tracks in `managedFields`.
 *
 * Everything here is a pure function over plain JSON values.
 */

import { ApiError, badRequest } from "./api_status.ts";

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 7386: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`invalid JSON pointer "${path}"`);
  return path.slice(1).split("/").map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function resolveParent(doc: unknown, parts: string[]): { parent: unknown; key: string } {
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else cur = undefined;
    if (cur === undefined) {
      throw new ApiError(422, "Invalid", `the path "${parts.join("/")}" does not exist`);
    }
  }
  return { parent: cur, key: parts[parts.length - 1] };
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const part of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return structuredClone(value);
  const { parent, key } = resolveParent(doc, parts);
  if (Array.isArray(parent)) {
    const index = key === "-" ? parent.length : Number(key);
    if (!(index >= 0 && index <= parent.length)) {
      throw new ApiError(422, "Invalid", `index out of range in "${path}"`);
    }
    parent.splice(index, 0, structuredClone(value));
  } else if (isObject(parent)) parent[key] = structuredClone(value);
  else throw new ApiError(422, "Invalid", `the path "${path}" does not exist`);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const parts = pointer(path);
  const { parent, key } = resolveParent(doc, parts);
  if (Array.isArray(parent) && Number(key) < parent.length) parent.splice(Number(key), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw new ApiError(422, "Invalid", `the path "${path}" does not exist`);
  return doc;
}

/** RFC 6902 operations (add, remove, replace, move, copy, test). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest("a JSON patch must be an array of operations");
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.path !== "string") {
      throw badRequest("invalid JSON patch operation");
    }
    switch (op.op) {
      case "add":
        doc = addAt(doc, op.path, op.value);
        break;
      case "remove":
        doc = removeAt(doc, op.path);
        break;
      case "replace":
        doc = addAt(removeAt(doc, op.path), op.path, op.value);
        break;
      case "move": {
        const value = getAt(doc, String(op.from));
        doc = addAt(removeAt(doc, String(op.from)), op.path, value);
        break;
      }
      case "copy":
        doc = addAt(doc, op.path, getAt(doc, String(op.from)));
        break;
      case "test":
        if (!deepEqual(getAt(doc, op.path), op.value)) {
          throw new ApiError(422, "Invalid", `testing value at "${op.path}" failed`);
        }
        break;
      default:
        throw badRequest(`unknown JSON patch operation "${String(op.op)}"`);
    }
  }
  return doc;
}

/** A field path as server-side apply tracks it (arrays are atomic leaves). */
export type FieldPath = string[];

/** Leaf paths of an applied configuration, ignoring identity fields. */
export function leafPaths(obj: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isObject(obj)) return [prefix];
  const out: FieldPath[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (prefix.length === 0 && ["apiVersion", "kind"].includes(key)) continue;
    if (
      prefix.length === 1 && prefix[0] === "metadata" &&
      ["name", "namespace", "resourceVersion", "uid", "generateName", "managedFields"].includes(
        key,
      )
    ) continue;
    if (isObject(value) && Object.keys(value).length > 0) {
      out.push(...leafPaths(value, [...prefix, key]));
    } else out.push([...prefix, key]);
  }
  return out;
}

/** `managedFields[].fieldsV1` for a set of paths. */
export function pathsToFieldsV1(paths: FieldPath[]): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let cur = root;
    for (const part of path) {
      const key = `f:${part}`;
      cur[key] ??= {};
      cur = cur[key] as JsonObject;
    }
  }
  return root;
}

/** The paths recorded in a `fieldsV1` tree. */
export function fieldsV1ToPaths(fields: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isObject(fields) || Object.keys(fields).length === 0) return prefix.length ? [prefix] : [];
  const out: FieldPath[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!key.startsWith("f:")) continue;
    out.push(...fieldsV1ToPaths(value, [...prefix, key.slice(2)]));
  }
  return out;
}

/** Reads the value at a field path. */
export function getPath(obj: unknown, path: FieldPath): unknown {
  let cur = obj;
  for (const part of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Deletes the value at a field path, pruning nested objects left empty. */
export function deletePath(obj: JsonObject, path: FieldPath, depth = 0): void {
  if (path.length === 0) return;
  if (path.length === 1) {
    delete obj[path[0]];
    return;
  }
  const child = obj[path[0]];
  if (!isObject(child)) return;
  deletePath(child, path.slice(1), depth + 1);
  if (Object.keys(child).length === 0 && depth > 0) delete obj[path[0]];
}

/** Deep-merges an applied configuration into a live object (objects merge, arrays replace). */
export function applyMerge(live: unknown, applied: unknown): unknown {
  if (!isObject(applied) || !isObject(live)) return structuredClone(applied);
  const out: JsonObject = { ...live };
  for (const [key, value] of Object.entries(applied)) out[key] = applyMerge(live[key], value);
  return out;
}

/** True when `a` is a prefix of `b` or `b` of `a` (the two paths touch the same field). */
export function pathsOverlap(a: FieldPath, b: FieldPath): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
