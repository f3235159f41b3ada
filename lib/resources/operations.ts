/**
 * The resource verbs as data: list, get, tables, watch, apply, create, replace, patch, delete and
 * diff against one control plane, with types resolved through discovery.
 *
 * This is the lib-level API behind `get`, `apply`, `diff`, `delete`, `edit` and friends, reusable
 * by MCP tools without commander. Nothing here prints: every method returns objects, Tables or
 * results whose `ref` reads like kubectl's (`connector.networking/c1`).
 */
import { loadedYaml } from "../yaml.ts";
import type { ApiClient, KubeList, WatchEvent } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { resourcePath } from "../api/urls.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import { Discovery, type ResourceType, typeApiVersion } from "./discovery.ts";
import {
  groupOf,
  isPlainObject,
  type KubeObject,
  type KubeTable,
  objectRefName,
  versionOf,
} from "./objects.ts";

/** The Accept header that asks for a server-side Table and falls back to plain JSON. */
export const TABLE_ACCEPT =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/** Which objects a listing covers. */
export interface ListOptions {
  /** Namespace of namespaced types (default: the client's, `default`). */
  namespace?: string;
  /** List namespaced types across all namespaces (`-A`). */
  allNamespaces?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
}

/** What a write did, in kubectl's words. */
export type WriteAction =
  | "created"
  | "configured"
  | "unchanged"
  | "deleted"
  | "edited"
  | "replaced";

/** The outcome of one write, ready for a result line. */
export interface WriteResult {
  /** `kind.group/name`, e.g. `connector.networking/c1`. */
  ref: string;
  action: WriteAction;
  type: ResourceType;
  /** `server` or `client` when nothing was stored. */
  dryRun?: "server" | "client";
  /** The object as the server returned it (absent for a client dry run or a delete). */
  object?: KubeObject;
  /**
   * Fields another manager owns that a real apply would conflict on (server dry run only: the
   * result shows the change as if forced), one `- .field (conflict with "m")` each.
   */
  conflicts?: string[];
}

/** The conflicting fields of a server-side apply 409, or undefined for any other error. */
function applyConflicts(err: unknown): string[] | undefined {
  if (!(err instanceof ApiError) || err.httpStatus !== 409) return undefined;
  const causes = (err.status?.details?.causes ?? []).filter((c) =>
    c.reason === "FieldManagerConflict" && c.field
  );
  if (causes.length === 0) return undefined;
  return causes.map((c) => `- ${c.field}${c.message ? ` (${c.message})` : ""}`);
}

/** Dry-run modes of the write verbs. */
export type DryRun = "none" | "server" | "client";

/** The result of comparing one manifest with the live object. */
export interface DiffResult {
  ref: string;
  type: ResourceType;
  /** The live object (minus write noise), absent when it does not exist yet. */
  live?: KubeObject;
  /** What the server would store after applying the manifest (server-side dry run). */
  merged: KubeObject;
  /** YAML of both sides, as compared. */
  liveYaml: string;
  mergedYaml: string;
  /** A unified diff, empty when the two sides are equal. */
  diff: string;
  /** `group.version.Kind.namespace.name`, the file name kubectl diff uses. */
  fileName: string;
  /** Fields a real apply would conflict on (the diff shows them as if forced). */
  conflicts?: string[];
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** True when every field `want` sets has the same value in `have` (a client-side no-op check). */
function isSubset(want: unknown, have: unknown): boolean {
  if (isPlainObject(want) && isPlainObject(have)) {
    return Object.entries(want).every(([k, v]) => isSubset(v, have[k]));
  }
  return deepEqual(want, have);
}

/**
 * A JSON merge patch (RFC 7386) that turns `from` into `to`; arrays are replaced whole, removed
 * keys become `null`. Empty object = no change.
 */
export function mergePatch(from: unknown, to: unknown): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const a = isPlainObject(from) ? from : {};
  const b = isPlainObject(to) ? to : {};
  for (const key of Object.keys(a)) if (!(key in b)) patch[key] = null;
  for (const [key, value] of Object.entries(b)) {
    if (deepEqual(a[key], value)) continue;
    if (isPlainObject(value) && isPlainObject(a[key])) {
      const inner = mergePatch(a[key], value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else patch[key] = value;
  }
  return patch;
}

/**
 * ./diff.ts by a computed specifier: it loads jsdiff, which `get` (on start-up's hot path) never
 * uses, and `deno run` reads every module a literal `import()` names before the program starts.
 */
function diffModule(): Promise<typeof import("./diff.ts")> {
  const specifier = "./diff.ts";
  return import(specifier);
}

/**
 * Fills in the apiVersion and kind that list items and watch events carry no copy of on the
 * wire (printers and `-o name` need them); returns the same object.
 */
export function withTypeMeta(object: KubeObject, type: ResourceType): KubeObject {
  if (object.apiVersion !== undefined && object.kind !== undefined) return object;
  // apiVersion and kind go first, where kubectl (and every manifest) has them.
  const { apiVersion, kind, ...rest } = object;
  for (const key of Object.keys(object)) delete object[key];
  object.apiVersion = apiVersion ?? typeApiVersion(type);
  object.kind = kind ?? type.kind;
  return Object.assign(object, rest);
}

function toYaml(object: KubeObject | undefined): string {
  return object ? loadedYaml().stringify(object, { indentSeq: false, lineWidth: 0 }) : "";
}

/** Resource verbs against one control plane (the scope's), as one login. */
export class ResourceClient {
  /** Types this control plane serves (cached on disk). */
  readonly discovery: Discovery;
  /** The namespace of namespaced objects; Datum uses only `default`. */
  readonly namespace: string;

  constructor(
    readonly api: ApiClient,
    options: {
      namespace?: string;
      discovery?: Discovery;
      env?: (name: string) => string | undefined;
      /** A better error for a type this plane does not serve (e.g. it lives in projects). */
      explainUnknownType?: (input: string) => Promise<Error | undefined>;
    } = {},
  ) {
    this.discovery = options.discovery ?? new Discovery(api, { env: options.env });
    this.namespace = options.namespace ?? "default";
    this.#explainUnknownType = options.explainUnknownType;
  }

  readonly #explainUnknownType?: (input: string) => Promise<Error | undefined>;

  /** Resolves a typed name (`connectors`, `tpp`, `HTTPProxy`, `connector.networking`, …). */
  async resolveType(input: string): Promise<ResourceType> {
    try {
      return await this.discovery.resolve(input);
    } catch (err) {
      const unknown = err instanceof CliError && err.code === "UNKNOWN_RESOURCE_TYPE";
      throw (unknown && await this.#explainUnknownType?.(input)) || err;
    }
  }

  /** The type of a manifest object from its apiVersion and kind. */
  typeOf(object: KubeObject): Promise<ResourceType> {
    return this.discovery.resolveKind(object.apiVersion ?? "", object.kind ?? "");
  }

  /** The URL path of a type's collection (or one object with `name`). */
  path(
    type: ResourceType,
    name?: string,
    options: { namespace?: string; allNamespaces?: boolean } = {},
  ): string {
    const namespace = type.namespaced && !(options.allNamespaces && name === undefined)
      ? options.namespace ?? this.namespace
      : undefined;
    return resourcePath({
      group: type.group,
      version: type.version,
      plural: type.plural,
      namespace,
      name,
    });
  }

  /** `kind.group/name` for result lines. */
  ref(type: ResourceType, name: string): string {
    return objectRefName(type.kind, type.group, name);
  }

  /** Lists objects of a type (following pagination). */
  async list(type: ResourceType, options: ListOptions = {}): Promise<KubeList<KubeObject>> {
    this.#requireVerb(type, "list");
    const list = await this.api.list<KubeObject>(this.path(type, undefined, options), {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      signal: options.signal,
    });
    for (const item of list.items) withTypeMeta(item, type);
    return list;
  }

  /** Gets one object; a missing one is a NotFound {@link ApiError}. */
  async get(
    type: ResourceType,
    name: string,
    options: { namespace?: string } = {},
  ): Promise<KubeObject> {
    return withTypeMeta(await this.api.get<KubeObject>(this.path(type, name, options)), type);
  }

  /** Gets one object, or `undefined` when it does not exist. */
  async find(
    type: ResourceType,
    name: string,
    options: { namespace?: string } = {},
  ): Promise<KubeObject | undefined> {
    try {
      return await this.get(type, name, options);
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }

  /**
   * The server-side Table of a type's objects (all of them, or the named ones in order), or
   * `undefined` when the server does not offer Tables for it.
   */
  async table(
    type: ResourceType,
    options: ListOptions & { names?: string[]; includeObject?: "Object" } = {},
  ): Promise<KubeTable | undefined> {
    const table = await this.#serverTable(type, options);
    if (!table || options.includeObject !== "Object") return table;
    // With whole objects in the rows, add the columns `-o wide` shows that the server lacks
    // (imported here: only `-o wide` asks for whole objects).
    const { withWideColumns } = await import("./wide-columns.ts");
    return withWideColumns(type, table);
  }

  async #serverTable(
    type: ResourceType,
    options: ListOptions & { names?: string[]; includeObject?: "Object" },
  ): Promise<KubeTable | undefined> {
    const headers = { accept: TABLE_ACCEPT };
    if (!options.names || options.names.length === 0) {
      this.#requireVerb(type, "list");
      const result = await this.api.get<unknown>(this.path(type, undefined, options), {
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          includeObject: options.includeObject,
        },
        headers,
        signal: options.signal,
      });
      return isTable(result) ? result : undefined;
    }
    let combined: KubeTable | undefined;
    for (const name of options.names) {
      const result = await this.api.get<KubeTable>(this.path(type, name, options), {
        headers,
        query: { includeObject: options.includeObject },
      });
      if (!isTable(result)) return undefined;
      if (!combined) combined = { ...result, rows: [...result.rows] };
      else combined.rows.push(...result.rows);
    }
    return combined;
  }

  /**
   * Watches a type's objects from `resourceVersion` (usually the list's); yields each event as
   * it arrives.
   */
  watch(
    type: ResourceType,
    options: ListOptions & { resourceVersion?: string; name?: string } = {},
  ): AsyncGenerator<WatchEvent<KubeObject>> {
    this.#requireVerb(type, "watch");
    const fieldSelector = options.name
      ? [`metadata.name=${options.name}`, options.fieldSelector].filter(Boolean).join(",")
      : options.fieldSelector;
    return this.api.watch<KubeObject>(this.path(type, undefined, options), {
      resourceVersion: options.resourceVersion,
      labelSelector: options.labelSelector,
      fieldSelector,
      signal: options.signal,
    });
  }

  #namespaced(type: ResourceType, object: KubeObject): KubeObject {
    if (!type.namespaced) return object;
    return {
      ...object,
      metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? this.namespace },
    };
  }

  /**
   * Server-side apply of a manifest object with field manager `datumctl`. The action is
   * `created` when nothing existed, `unchanged` when the server kept the object as it was,
   * else `configured`. A client dry run only compares with the live object.
   */
  async apply(
    manifest: KubeObject,
    options: { force?: boolean; dryRun?: DryRun; fieldManager?: string } = {},
  ): Promise<WriteResult> {
    const type = await this.typeOf(manifest);
    const name = this.#nameOf(manifest);
    const object = this.#namespaced(type, manifest);
    const namespace = object.metadata?.namespace;
    const live = await this.find(type, name, { namespace });
    const ref = this.ref(type, name);
    if (options.dryRun === "client") {
      const action = !live ? "created" : isSubset(manifest, live) ? "unchanged" : "configured";
      return { ref, action, type, dryRun: "client" };
    }
    const path = this.path(type, name, { namespace });
    const fieldManager = options.fieldManager ?? "datumctl";
    let conflicts: string[] | undefined;
    let result: KubeObject;
    try {
      result = await this.api.apply<KubeObject>(path, object, {
        force: options.force,
        dryRun: options.dryRun === "server",
        fieldManager,
      });
    } catch (err) {
      // A dry run reports what would change; the conflicts come along instead of failing.
      conflicts = options.dryRun === "server" ? applyConflicts(err) : undefined;
      if (!conflicts) throw err;
      result = await this.api.apply<KubeObject>(path, object, {
        force: true,
        dryRun: true,
        fieldManager,
      });
    }
    let action: WriteAction = "created";
    if (live) {
      const { comparableObject } = await diffModule();
      const sameVersion = !!live.metadata?.resourceVersion &&
        live.metadata.resourceVersion === result.metadata?.resourceVersion;
      // Status is left out: an apply never writes it, and a controller may have moved it between
      // the read of `live` and the apply, which is not a change this apply made.
      const settled = (o: KubeObject) => {
        const copy = comparableObject(o);
        if (copy) delete (copy as { status?: unknown }).status;
        return copy;
      };
      const sameContent = deepEqual(settled(live), settled(result));
      action = (options.dryRun === "server" ? sameContent : sameVersion || sameContent)
        ? "unchanged"
        : "configured";
    }
    return {
      ref,
      action,
      type,
      object: result,
      dryRun: options.dryRun === "server" ? "server" : undefined,
      ...(conflicts ? { conflicts } : {}),
    };
  }

  /** Creates a manifest object (POST); an existing one is an AlreadyExists {@link ApiError}. */
  async create(manifest: KubeObject, options: { dryRun?: DryRun } = {}): Promise<WriteResult> {
    const type = await this.typeOf(manifest);
    this.#requireVerb(type, "create");
    const object = this.#namespaced(type, manifest);
    const namespace = object.metadata?.namespace;
    if (options.dryRun === "client") {
      return {
        ref: this.ref(type, this.#nameOf(manifest)),
        action: "created",
        type,
        dryRun: "client",
      };
    }
    const result = await this.api.create<KubeObject>(
      this.path(type, undefined, { namespace }),
      object,
      {
        dryRun: options.dryRun === "server",
        fieldManager: "datumctl",
      },
    );
    return {
      ref: this.ref(type, result.metadata?.name ?? this.#nameOf(manifest)),
      action: "created",
      type,
      object: result,
      dryRun: options.dryRun === "server" ? "server" : undefined,
    };
  }

  /** Replaces an object (PUT) with an edited copy; conflicts surface as a Conflict error. */
  async replace(type: ResourceType, object: KubeObject): Promise<WriteResult> {
    const name = this.#nameOf(object);
    const namespace = type.namespaced ? object.metadata?.namespace ?? this.namespace : undefined;
    const result = await this.api.requestJson<KubeObject>(
      "PUT",
      this.path(type, name, { namespace }),
      {
        body: object,
        query: { fieldManager: "datumctl" },
      },
    );
    return { ref: this.ref(type, name), action: "replaced", type, object: result };
  }

  /** Applies a JSON merge patch to one object. */
  async patch(
    type: ResourceType,
    name: string,
    patch: Record<string, unknown>,
    options: { namespace?: string; dryRun?: boolean } = {},
  ): Promise<WriteResult> {
    const result = await this.api.patchMerge<KubeObject>(this.path(type, name, options), patch, {
      dryRun: options.dryRun,
      fieldManager: "datumctl",
    });
    return { ref: this.ref(type, name), action: "configured", type, object: result };
  }

  /**
   * Deletes one object. With `ignoreNotFound` a missing object yields `undefined` instead of a
   * NotFound error.
   */
  async delete(
    type: ResourceType,
    name: string,
    options: { namespace?: string; dryRun?: DryRun; ignoreNotFound?: boolean } = {},
  ): Promise<WriteResult | undefined> {
    this.#requireVerb(type, "delete");
    const ref = this.ref(type, name);
    try {
      if (options.dryRun === "client") {
        await this.get(type, name, options);
        return { ref, action: "deleted", type, dryRun: "client" };
      }
      await this.api.delete(this.path(type, name, options), {
        dryRun: options.dryRun === "server",
      });
      return {
        ref,
        action: "deleted",
        type,
        dryRun: options.dryRun === "server" ? "server" : undefined,
      };
    } catch (err) {
      if (options.ignoreNotFound && err instanceof ApiError && err.httpStatus === 404) {
        return undefined;
      }
      throw err;
    }
  }

  /** Deletes the object a manifest describes. */
  async deleteManifest(
    manifest: KubeObject,
    options: { dryRun?: DryRun; ignoreNotFound?: boolean } = {},
  ): Promise<WriteResult | undefined> {
    const type = await this.typeOf(manifest);
    const namespace = type.namespaced ? manifest.metadata?.namespace ?? this.namespace : undefined;
    return await this.delete(type, this.#nameOf(manifest), { ...options, namespace });
  }

  /**
   * Compares a manifest with the live object: what a server-side dry-run apply would store
   * versus what is stored now, both without managedFields, resourceVersion and generation.
   */
  async diff(manifest: KubeObject, options: { force?: boolean } = {}): Promise<DiffResult> {
    const type = await this.typeOf(manifest);
    const name = this.#nameOf(manifest);
    const object = this.#namespaced(type, manifest);
    const namespace = object.metadata?.namespace;
    const { comparableObject, unifiedDiff } = await diffModule();
    const live = comparableObject(await this.find(type, name, { namespace }));
    const path = this.path(type, name, { namespace });
    let conflicts: string[] | undefined;
    let applied: KubeObject;
    try {
      applied = await this.api.apply<KubeObject>(path, object, {
        force: options.force,
        dryRun: true,
        fieldManager: "datumctl",
      });
    } catch (err) {
      // Like kubectl's diff: show the change, and say which fields an apply would conflict on.
      conflicts = applyConflicts(err);
      if (!conflicts) throw err;
      applied = await this.api.apply<KubeObject>(path, object, {
        force: true,
        dryRun: true,
        fieldManager: "datumctl",
      });
    }
    const merged = comparableObject(applied)!;
    if (live && !live.metadata?.uid && merged.metadata) delete merged.metadata.uid;
    const liveYaml = toYaml(live);
    const mergedYaml = toYaml(merged);
    const fileName = [
      type.group || "core",
      type.version,
      type.kind,
      namespace ?? "",
      name,
    ].filter(Boolean).join(".");
    return {
      ref: this.ref(type, name),
      type,
      live,
      merged,
      liveYaml,
      mergedYaml,
      diff: unifiedDiff(liveYaml, mergedYaml, {
        from: `LIVE/${fileName}`,
        to: `MERGED/${fileName}`,
      }),
      fileName,
      ...(conflicts ? { conflicts } : {}),
    };
  }

  #nameOf(object: KubeObject): string {
    const name = object.metadata?.name;
    if (!name) {
      throw new UsageError(
        `${object.kind ?? "object"} has no metadata.name`,
        "Give every object a metadata.name (generateName works only with create).",
      );
    }
    return name;
  }

  #requireVerb(type: ResourceType, verb: string): void {
    if (type.verbs.length > 0 && !type.verbs.includes(verb)) {
      throw new CliError(
        "VERB_NOT_SUPPORTED",
        `${type.plural}${type.group ? `.${type.group}` : ""} does not support ${verb}`,
        { hint: `It supports: ${type.verbs.join(", ")}.`, exitCode: ExitCode.error },
      );
    }
  }
}

/** True for a `meta.k8s.io` Table. */
export function isTable(value: unknown): value is KubeTable {
  return isPlainObject(value) && value.kind === "Table" && Array.isArray(value.columnDefinitions);
}

/** The apiVersion and kind a manifest object names, for messages. */
export function manifestLabel(object: KubeObject): string {
  const g = groupOf(object.apiVersion);
  return `${object.kind ?? "?"}${g ? `.${g}` : ""}/${versionOf(object.apiVersion)} ${
    object.metadata?.name ?? ""
  }`.trim();
}
