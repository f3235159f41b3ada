/**
 * Server-side tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): columns from
 * the kinds' printer columns plus Name (and Age where a kind declares none), cells read with
 * the JSONPath subset CRDs use.
 *
 * Exports {@link toTable}, {@link wantsTable} and {@link evalJsonPath}.
 */

import type { KubeObject } from "./store.ts";
import type { PrinterColumn, ResourceType } from "./resources.ts";

type Step =
  | { kind: "field"; name: string }
  | { kind: "all" }
  | { kind: "index"; index: number }
  | { kind: "filter"; path: string[]; value: string };

function parse(path: string): Step[] {
  const steps: Step[] = [];
  let i = path.startsWith("{") ? 1 : 0;
  const end = path.endsWith("}") ? path.length - 1 : path.length;
  while (i < end) {
    const ch = path[i];
    if (ch === ".") {
      i++;
      let name = "";
      while (i < end && path[i] !== "." && path[i] !== "[") {
        if (path[i] === "\\" && i + 1 < end) {
          name += path[i + 1];
          i += 2;
        } else name += path[i++];
      }
      if (name) steps.push({ kind: "field", name });
    } else if (ch === "[") {
      const close = path.indexOf("]", i);
      const inner = path.slice(i + 1, close);
      i = close + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else {
        const m = inner.match(/^\?\(@\.([\w.]+)\s*==\s*["']([^"']*)["']\)$/);
        if (m) steps.push({ kind: "filter", path: m[1].split("."), value: m[2] });
      }
    } else i++;
  }
  return steps;
}

/** Evaluates a CRD-style JSONPath; returns every matched value. */
export function evalJsonPath(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const step of parse(path)) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step.kind === "field") {
        if (value && typeof value === "object" && !Array.isArray(value)) {
          const v = (value as Record<string, unknown>)[step.name];
          if (v !== undefined) next.push(v);
        }
      } else if (Array.isArray(value)) {
        if (step.kind === "all") next.push(...value);
        else if (step.kind === "index") {
          if (step.index < value.length) next.push(value[step.index]);
        } else {
          for (const item of value) {
            let v: unknown = item;
            for (const p of step.path) v = (v as Record<string, unknown> | undefined)?.[p];
            if (String(v) === step.value) next.push(item);
          }
        }
      }
    }
    current = next;
  }
  return current;
}

/** Kubernetes' short age: 45s, 5m, 3h, 2d, 1y. */
export function humanAge(timestamp: string, now = Date.now()): string {
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "<unknown>";
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  const with_ = (big: number, unit: string, small: number, smallUnit: string) =>
    small ? `${big}${unit}${small}${smallUnit}` : `${big}${unit}`;
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return with_(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return with_(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return with_(days, "d", hours % 24, "h");
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (days < 365 * 8) return with_(years, "y", days % 365, "d");
  return `${years}y`;
}

/** True when the Accept header asks for a server-side table. */
export function wantsTable(accept: string | null): boolean {
  return !!accept && /as=Table/.test(accept);
}

function columnsOf(type: ResourceType): PrinterColumn[] {
  if (type.printerColumns.length) return type.printerColumns;
  return [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }];
}

function cell(obj: KubeObject, column: PrinterColumn): unknown {
  const values = evalJsonPath(obj, column.jsonPath);
  if (values.length === 0) return null;
  if (column.type === "date") return humanAge(String(values[0]));
  if (values.length === 1) {
    const v = values[0];
    return typeof v === "object" ? JSON.stringify(v) : v;
  }
  return values.map((v) => typeof v === "object" ? JSON.stringify(v) : String(v)).join(",");
}

/** Builds a `meta.k8s.io/v1` Table of objects. */
export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  includeObject: string | null,
): Record<string, unknown> {
  const columns = columnsOf(type);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: [
      {
        name: "Name",
        type: "string",
        format: "name",
        description:
          "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        priority: 0,
      },
      ...columns.map((c) => ({
        name: c.name,
        type: c.type,
        format: "",
        description: c.description ??
          (c.name === "Age"
            ? "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
            : ""),
        priority: c.priority ?? 0,
      })),
    ],
    rows: objects.map((obj) => ({
      cells: [obj.metadata.name, ...columns.map((c) => cell(obj, c))],
      object: includeObject === "Object" ? obj : includeObject === "None" ? undefined : {
        kind: "PartialObjectMetadata",
        apiVersion: "meta.k8s.io/v1",
        metadata: obj.metadata,
      },
    })),
  };
}
