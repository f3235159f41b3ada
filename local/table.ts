/**
 * Server-side tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): columns from
 * the kinds' printer columns plus Name (and Age where a kind declares none), cells read with
 * datumctl's JSONPath engine and aged with its humanAge (one copy of each, in lib/resources).
 */

import type { KubeObject } from "./store.ts";
import type { PrinterColumn, ResourceType } from "./resources.ts";
import { type JsonPathTemplate, parseJsonPathExpression } from "../lib/resources/jsonpath.ts";
import { humanAge } from "../lib/resources/objects.ts";

const compiled = new Map<string, JsonPathTemplate>();

/**
 * Evaluates a CRD printer column's JSONPath with datumctl's own engine (lib/resources/jsonpath.ts), so
 * the emulator's tables and `get -o custom-columns` read paths the same way; returns every
 * matched value.
 */
export function evalJsonPath(obj: unknown, path: string): unknown[] {
  let template = compiled.get(path);
  if (!template) {
    template = parseJsonPathExpression(path);
    compiled.set(path, template);
  }
  return template.values(obj);
}

/** Kubernetes' short age (45s, 5m, 3h30m, 2d, 1y), the same function datumctl prints with. */
export { humanAge };

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
