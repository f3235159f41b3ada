/**
 * The shapes of Kubernetes objects the resource verbs pass around, the names kubectl prints for
 * them (one naming, so every verb's result line and `-o name` read the same), kubectl's AGE of an
 * object, and the NAME/AGE Table built from objects when a server offers no Table of its own.
 */

/** Metadata fields the verbs read; everything else is passed through untouched. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  managedFields?: unknown[];
  [extra: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [extra: string]: unknown;
}

/** One column of a server-side Table (`meta.k8s.io/v1`). */
export interface TableColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  /** 0 = always shown; higher = only with `-o wide`. */
  priority?: number;
}

/** One row of a server-side Table. */
export interface TableRow {
  cells: unknown[];
  /** A PartialObjectMetadata or the whole object, depending on `includeObject`. */
  object?: KubeObject;
}

/** A server-side Table (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). */
export interface KubeTable {
  kind: "Table";
  apiVersion: string;
  metadata?: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

/** The group of an apiVersion (`networking.datumapis.com/v1alpha1` → `networking.datumapis.com`). */
export function groupOf(apiVersion: string | undefined): string {
  if (!apiVersion) return "";
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** The version of an apiVersion (`networking.datumapis.com/v1alpha1` → `v1alpha1`). */
export function versionOf(apiVersion: string | undefined): string {
  if (!apiVersion) return "";
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/** The first DNS label of a group, as datumctl prints it (`networking.datumapis.com` → `networking`). */
export function shortGroup(group: string): string {
  return group.split(".")[0];
}

/**
 * The `kind.group/name` reference of result lines and `-o name`, with the group's first DNS label
 * (`dnszone.networking/staging`); the core group has none (`configmap/x`).
 */
export function objectRefName(kind: string, group: string, name: string): string {
  const g = shortGroup(group);
  return `${kind.toLowerCase()}${g ? `.${g}` : ""}/${name}`;
}

/** True for plain JSON objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** kubectl's AGE: `45s`, `3m20s`, `17m`, `4h12m`, `2d3h`, `300d`, `2y30d`. */
export function humanAge(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return "<unknown>";
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "<unknown>";
  const seconds = Math.floor((now - then) / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  }
  const days = Math.floor(hours / 24);
  if (days < 365 * 2) return `${days}d`;
  if (days < 365 * 8) {
    return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  }
  return `${Math.floor(days / 365)}y`;
}

/** A NAME/AGE Table built from objects, for servers that offer no server-side Table. */
export function objectsTable(objects: KubeObject[], now = Date.now()): KubeTable {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    columnDefinitions: [
      { name: "Name", type: "string", format: "name" },
      { name: "Age", type: "string" },
    ],
    rows: objects.map((object) => ({
      cells: [object.metadata?.name ?? "", humanAge(object.metadata?.creationTimestamp, now)],
      object,
    })),
  };
}

/** Renders one value the way kubectl's JSONPath printer does. */
export function formatJsonPathValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  if (value === null) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
