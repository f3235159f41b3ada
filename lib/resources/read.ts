/**
 * Reading objects for `get` and `describe`, in the commands and the MCP tools: named objects or a
 * listing, as objects or as the server's Table. As kubectl does, a named object that does not
 * exist is handed to `onMissing` and the others are still read.
 */
import { ApiError } from "../api/errors.ts";
import type { ResourceType } from "./discovery.ts";
import { type KubeObject, type KubeTable, objectsTable } from "./objects.ts";
import type { ResourceClient } from "./operations.ts";
import { isProjectsType, projectDisplayNameOf } from "./organizations.ts";

/** Where to read and which objects a listing keeps. */
export interface ReadOptions {
  namespace?: string;
  allNamespaces?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  /** Ask for whole objects in Table rows (sorting by a field needs them). */
  includeObject?: "Object";
}

/** A type as typed and the names asked for (none: a listing). */
export interface ReadRequest {
  type: string;
  names: string[];
}

/** Whether `err` is the API's NotFound. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.httpStatus === 404;
}

function missingHandler(onMissing?: (err: unknown) => void): (err: unknown) => void {
  return (err) => {
    if (!isNotFound(err) || !onMissing) throw err;
    onMissing(err);
  };
}

/**
 * The objects of `names` (each NotFound goes to `onMissing`; without one it is thrown), or the
 * listing with its resourceVersion (to start a watch from) when no names are given.
 */
export async function readObjects(
  rc: ResourceClient,
  type: ResourceType,
  names: string[],
  options: ReadOptions,
  onMissing?: (err: unknown) => void,
): Promise<{ objects: KubeObject[]; resourceVersion?: string }> {
  if (names.length === 0) {
    const list = await rc.list(type, options);
    return { objects: list.items, resourceVersion: list.metadata?.resourceVersion };
  }
  const missing = missingHandler(onMissing);
  const objects: KubeObject[] = [];
  for (const name of names) {
    try {
      objects.push(await rc.get(type, name, options));
    } catch (err) {
      missing(err);
    }
  }
  return { objects };
}

/**
 * The Table of a request: the server's when it serves one, else one built from the objects.
 * Projects get a DISPLAY NAME column when the server leaves it out.
 */
export async function readTable(
  rc: ResourceClient,
  type: ResourceType,
  request: ReadRequest,
  options: ReadOptions,
  onMissing?: (err: unknown) => void,
): Promise<KubeTable> {
  const table = await serverTable(rc, type, request.names, options, missingHandler(onMissing));
  return isProjectsType(request.type) ? withProjectDisplayNames(table) : table;
}

async function serverTable(
  rc: ResourceClient,
  type: ResourceType,
  names: string[],
  options: ReadOptions,
  missing: (err: unknown) => void,
): Promise<KubeTable> {
  if (names.length === 0) {
    const table = await rc.table(type, options);
    if (table) return table;
    return objectsTable((await rc.list(type, options)).items);
  }
  let combined: KubeTable | undefined;
  for (const name of names) {
    try {
      const table = await rc.table(type, { ...options, names: [name] }) ??
        objectsTable([await rc.get(type, name, options)]);
      if (!combined) combined = { ...table, rows: [...table.rows] };
      else combined.rows.push(...table.rows);
    } catch (err) {
      missing(err);
    }
  }
  return combined ?? objectsTable([]);
}

/** Adds DISPLAY NAME to a projects Table when the server did not include one. */
function withProjectDisplayNames(table: KubeTable): KubeTable {
  if (table.columnDefinitions.some((c) => c.name.toLowerCase() === "display name")) return table;
  const nameIndex = Math.max(0, table.columnDefinitions.findIndex((c) => c.format === "name"));
  const columns = [...table.columnDefinitions];
  columns.splice(nameIndex + 1, 0, { name: "Display Name", type: "string" });
  return {
    ...table,
    columnDefinitions: columns,
    rows: table.rows.map((row) => {
      const cells = [...row.cells];
      cells.splice(nameIndex + 1, 0, projectDisplayNameOf(row.object));
      return { ...row, cells };
    }),
  };
}
