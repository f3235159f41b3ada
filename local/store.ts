/**
 * The emulator's in-memory object store with Kubernetes write semantics: names and
 * generateName, uid, creationTimestamp, one global resourceVersion, generation bumped only by
 * spec changes, the status subresource, optimistic concurrency, merge and JSON patches,
 * server-side apply, dry runs, finalizers, and an event feed for watches and controllers.
 *
 * Control planes are named by a plane key: `platform`, `user/<sub>`, `org/<org>` or
 * `project/<project>`.
 */

import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  invalid,
  notFound,
  RULES_NOT_CHECKED,
} from "./api_status.ts";
import { hasValidationRules } from "./kube/crds.ts";
import {
  applyMerge,
  deepEqual,
  deletePath,
  type FieldPath,
  fieldsV1ToPaths,
  getPath,
  isObject,
  type JsonObject,
  jsonPatch,
  leafPaths,
  mergePatch,
  pathsOverlap,
  pathsToFieldsV1,
} from "./patch.ts";
import { groupVersion, type ResourceType } from "./resources.ts";

/** A Kubernetes object as stored (plain JSON). */
export type KubeObject = JsonObject & {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
};

/** The metadata fields the store manages. */
export interface ObjectMeta extends JsonObject {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  managedFields?: JsonObject[];
}

/** A change to one object. */
export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  plane: string;
  resource: ResourceType;
  object: KubeObject;
  resourceVersion: number;
}

/** How a patch body is to be read. */
export type PatchType = "merge" | "json" | "strategic" | "apply";

/** Options common to writes. */
export interface WriteOptions {
  dryRun?: boolean;
  subresource?: "status";
  fieldManager?: string;
  force?: boolean;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const HISTORY_LIMIT = 5000;

/** 409 for apply conflicts, worded as Kubernetes' structured-merge-diff words them. */
function applyConflict(conflicts: { manager: string; path: FieldPath }[]): ApiError {
  const seen = new Set<string>();
  const unique = conflicts.map((c) => ({ manager: c.manager, field: `.${c.path.join(".")}` }))
    .filter((c) => !seen.has(`${c.manager}|${c.field}`) && seen.add(`${c.manager}|${c.field}`));
  let text: string;
  if (unique.length === 1) text = `conflict with "${unique[0].manager}": ${unique[0].field}`;
  else {
    const managers = [...new Set(unique.map((c) => c.manager))].sort();
    text = managers.map((m) =>
      `conflicts with "${m}":` +
      unique.filter((c) => c.manager === m).map((c) => `\n- ${c.field}`).join("")
    ).join("\n");
  }
  return new ApiError(
    409,
    "Conflict",
    `Apply failed with ${unique.length} conflict${unique.length > 1 ? "s" : ""}: ${text}`,
    {
      causes: unique.map((c) => ({
        reason: "FieldManagerConflict",
        message: `conflict with "${c.manager}"`,
        field: c.field,
      })),
    },
  );
}

/** Now as Kubernetes writes timestamps (seconds, Z). */
export function kubeNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return [...bytes].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join("");
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

/** The object without metadata and status: what `generation` tracks. */
function specPart(obj: JsonObject): JsonObject {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** In-memory store for every control plane, with Kubernetes semantics. */
export class ObjectStore {
  #rv = 1000;
  #buckets = new Map<string, Map<string, KubeObject>>();
  #history: StoreEvent[] = [];
  #listeners = new Set<(event: StoreEvent) => void>();
  /** Validators by `group/plural`, run on every create and update. */
  validators = new Map<string, (obj: KubeObject) => { field: string; message: string }[]>();

  /** The latest resourceVersion handed out. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  #bucket(plane: string, type: ResourceType): Map<string, KubeObject> {
    const key = `${plane}|${type.group}|${type.plural}`;
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, bucket = new Map());
    return bucket;
  }

  /** One object (a copy), or undefined. */
  get(plane: string, type: ResourceType, namespace: string | undefined, name: string) {
    const obj = this.#bucket(plane, type).get(
      objectKey(type.namespaced ? namespace : undefined, name),
    );
    return obj ? structuredClone(obj) : undefined;
  }

  /** Objects of a kind (copies), sorted by namespace and name; all namespaces when undefined. */
  list(plane: string, type: ResourceType, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.#bucket(plane, type).values()) {
      if (namespace !== undefined && type.namespaced && obj.metadata.namespace !== namespace) {
        continue;
      }
      out.push(structuredClone(obj));
    }
    return out.sort((a, b) =>
      objectKey(a.metadata.namespace, a.metadata.name).localeCompare(
        objectKey(b.metadata.namespace, b.metadata.name),
      )
    );
  }

  /** Planes that hold objects of a kind (e.g. every project with Connectors). */
  planesWith(type: ResourceType): string[] {
    const planes: string[] = [];
    for (const [key, bucket] of this.#buckets) {
      const [plane, group, plural] = key.split("|");
      if (group === type.group && plural === type.plural && bucket.size > 0) planes.push(plane);
    }
    return planes;
  }

  /** Calls `listener` for every change from now on; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events after `resourceVersion`, or undefined when that is older than the kept history. */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion >= this.#rv) return [];
    const oldest = this.#history[0]?.resourceVersion;
    if (oldest === undefined || oldest > resourceVersion + 1) return undefined;
    return this.#history.filter((e) => e.resourceVersion > resourceVersion);
  }

  #commit(
    plane: string,
    type: ResourceType,
    obj: KubeObject,
    eventType: StoreEvent["type"],
  ): KubeObject {
    const rv = ++this.#rv;
    obj.metadata.resourceVersion = String(rv);
    const bucket = this.#bucket(plane, type);
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    if (eventType === "DELETED") bucket.delete(key);
    else bucket.set(key, structuredClone(obj));
    const event: StoreEvent = {
      type: eventType,
      plane,
      resource: type,
      object: structuredClone(obj),
      resourceVersion: rv,
    };
    this.#history.push(event);
    if (this.#history.length > HISTORY_LIMIT) {
      this.#history.splice(0, this.#history.length - HISTORY_LIMIT);
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (e) {
        console.error("local stack: store listener failed:", e);
      }
    }
    return structuredClone(obj);
  }

  #validate(type: ResourceType, obj: KubeObject) {
    const causes: { field: string; message: string }[] = [];
    const name = obj.metadata.name;
    if (!NAME_RE.test(name) || name.length > 253) {
      causes.push({
        field: "metadata.name",
        message:
          `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      });
    }
    for (
      const [field, value] of [["metadata.labels", obj.metadata.labels], [
        "metadata.annotations",
        obj.metadata.annotations,
      ]] as const
    ) {
      if (value === undefined || value === null) continue;
      if (!isObject(value) || Object.values(value).some((v) => typeof v !== "string")) {
        causes.push({ field, message: "Invalid value: must be a map of string values" });
      }
    }
    const validator = this.validators.get(`${type.group}/${type.plural}`);
    if (validator) causes.push(...validator(obj));
    if (causes.length) {
      throw invalid(type, name, hasValidationRules(type) ? [...causes, RULES_NOT_CHECKED] : causes);
    }
  }

  #checkIdentity(type: ResourceType, body: JsonObject) {
    const gv = groupVersion(type);
    if (body.apiVersion !== undefined && body.apiVersion !== gv) {
      throw badRequest(
        `the API version in the data (${
          String(body.apiVersion)
        }) does not match the expected API version (${gv})`,
      );
    }
    if (body.kind !== undefined && body.kind !== type.kind) {
      throw badRequest(
        `the kind in the data (${
          String(body.kind)
        }) does not match the expected kind (${type.kind})`,
      );
    }
  }

  /** Creates an object (POST). */
  create(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
    opts: WriteOptions = {},
  ): KubeObject {
    if (!isObject(body)) throw badRequest("the request body must be a JSON object");
    this.#checkIdentity(type, body);
    const meta = isObject(body.metadata) ? { ...body.metadata } : {};
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
    }
    let name = typeof meta.name === "string" ? meta.name : "";
    const bucket = this.#bucket(plane, type);
    if (!name) {
      if (typeof meta.generateName !== "string" || !meta.generateName) {
        throw invalid(type, "", [{
          field: "metadata.name",
          message: "Required value: name or generateName is required",
          reason: "FieldValueRequired",
        }]);
      }
      do name = meta.generateName + randomSuffix(); while (bucket.has(objectKey(namespace, name)));
    }
    const nsKey = type.namespaced ? namespace : undefined;
    if (bucket.has(objectKey(nsKey, name))) throw alreadyExists(type, name);

    const obj = structuredClone(body) as KubeObject;
    obj.apiVersion = groupVersion(type);
    obj.kind = type.kind;
    for (const k of ["uid", "resourceVersion", "deletionTimestamp", "managedFields", "selfLink"]) {
      delete meta[k];
    }
    obj.metadata = {
      ...meta,
      name,
      ...(type.namespaced ? { namespace } : {}),
      uid: crypto.randomUUID(),
      resourceVersion: "",
      generation: 1,
      creationTimestamp: kubeNow(),
    } as ObjectMeta;
    if (!type.namespaced) delete obj.metadata.namespace;
    if (type.statusSubresource && !opts.subresource) {
      delete obj.status;
      if (type.defaultStatus) obj.status = type.defaultStatus();
    }
    this.#validate(type, obj);
    if (opts.dryRun) return obj;
    return this.#commit(plane, type, obj, "ADDED");
  }

  /** Computes the stored form of an update of `current` to `incoming`; undefined = no change. */
  #prepareUpdate(
    type: ResourceType,
    current: KubeObject,
    incoming: JsonObject,
    subresource: "status" | undefined,
  ): KubeObject | undefined {
    this.#checkIdentity(type, incoming);
    let next: KubeObject;
    if (subresource === "status") {
      next = structuredClone(current);
      if (incoming.status === undefined) delete next.status;
      else next.status = structuredClone(incoming.status);
    } else {
      next = structuredClone(incoming) as KubeObject;
      const inMeta = isObject(incoming.metadata) ? incoming.metadata : {};
      next.metadata = {
        ...structuredClone(inMeta),
        name: current.metadata.name,
        uid: current.metadata.uid,
        resourceVersion: current.metadata.resourceVersion,
        generation: current.metadata.generation,
        creationTimestamp: current.metadata.creationTimestamp,
      } as ObjectMeta;
      delete next.metadata.generateName;
      if (current.metadata.generateName) next.metadata.generateName = current.metadata.generateName;
      if (type.namespaced) next.metadata.namespace = current.metadata.namespace;
      else delete next.metadata.namespace;
      if (current.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      } else delete next.metadata.deletionTimestamp;
      if (current.metadata.managedFields) {
        next.metadata.managedFields = current.metadata.managedFields;
      } else delete next.metadata.managedFields;
      if (type.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status);
      }
    }
    next.apiVersion = groupVersion(type);
    next.kind = type.kind;
    if (!deepEqual(specPart(current), specPart(next))) {
      next.metadata.generation = current.metadata.generation + 1;
    }
    const unchanged = deepEqual(
      { ...current, metadata: { ...current.metadata, resourceVersion: "" } },
      { ...next, metadata: { ...next.metadata, resourceVersion: "" } },
    );
    if (unchanged) return undefined;
    this.#validate(type, next);
    return next;
  }

  #finish(plane: string, type: ResourceType, next: KubeObject, dryRun?: boolean): KubeObject {
    if (dryRun) return next;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length)) {
      return this.#commit(plane, type, next, "DELETED");
    }
    return this.#commit(plane, type, next, "MODIFIED");
  }

  #require(plane: string, type: ResourceType, namespace: string | undefined, name: string) {
    const current = this.#bucket(plane, type).get(
      objectKey(type.namespaced ? namespace : undefined, name),
    );
    if (!current) throw notFound(type, name);
    return structuredClone(current);
  }

  /** Replaces an object (PUT); the body must carry the current resourceVersion. */
  update(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): KubeObject {
    if (!isObject(body)) throw badRequest("the request body must be a JSON object");
    const meta = isObject(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest("the name of the object does not match the name on the URL");
    }
    const current = this.#require(plane, type, namespace, name);
    const rv = meta.resourceVersion;
    if (rv === undefined || rv === "") {
      throw invalid(type, name, [{
        field: "metadata.resourceVersion",
        message: "Invalid value: 0x0: must be specified for an update",
      }]);
    }
    if (String(rv) !== current.metadata.resourceVersion) throw conflict(type, name);
    const next = this.#prepareUpdate(type, current, body, opts.subresource);
    if (!next) return current;
    return this.#finish(plane, type, next, opts.dryRun);
  }

  /** Patches an object (PATCH); `apply` creates it when missing. */
  patch(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    patch: unknown,
    opts: WriteOptions = {},
  ): { object: KubeObject; created: boolean } {
    if (patchType === "apply") return this.#apply(plane, type, namespace, name, patch, opts);
    const current = this.#require(plane, type, namespace, name);
    if (patchType !== "json" && !isObject(patch)) {
      throw badRequest("a merge patch must be a JSON object");
    }
    const patched = patchType === "json" ? jsonPatch(current, patch) : mergePatch(current, patch);
    if (!isObject(patched)) throw badRequest("the patch must leave an object");
    const wantedRv = isObject(patched.metadata) ? patched.metadata.resourceVersion : undefined;
    if (wantedRv !== undefined && String(wantedRv) !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    if (isObject(patched.metadata) && patched.metadata.name !== name) {
      throw badRequest("the name of the object cannot be changed by a patch");
    }
    const next = this.#prepareUpdate(type, current, patched, opts.subresource);
    if (!next) return { object: current, created: false };
    return { object: this.#finish(plane, type, next, opts.dryRun), created: false };
  }

  #apply(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    applied: unknown,
    opts: WriteOptions,
  ): { object: KubeObject; created: boolean } {
    const manager = opts.fieldManager;
    if (!manager) {
      throw new ApiError(
        422,
        "Invalid",
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        {
          group: "meta.k8s.io",
          kind: "PatchOptions",
          causes: [{
            reason: "FieldValueRequired",
            message: "Required value: is required for apply patch",
            field: "fieldManager",
          }],
        },
      );
    }
    if (!isObject(applied)) throw badRequest("an apply patch must be an object");
    if (applied.apiVersion === undefined || applied.kind === undefined) {
      throw badRequest("apiVersion and kind must be set in an apply patch");
    }
    this.#checkIdentity(type, applied);
    const meta = isObject(applied.metadata) ? applied.metadata : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest("the name of the object does not match the name on the URL");
    }
    const subresource = opts.subresource;
    const scoped = subresource === "status"
      ? { status: applied.status }
      : (type.statusSubresource ? { ...applied, status: undefined } : applied);
    const paths = leafPaths(JSON.parse(JSON.stringify(scoped)));
    const entryMatches = (e: JsonObject) =>
      e.manager === manager && e.operation === "Apply" &&
      (e.subresource ?? undefined) === subresource;

    const existing = this.#bucket(plane, type).get(
      objectKey(type.namespaced ? namespace : undefined, name),
    );
    if (!existing) {
      const body = { ...structuredClone(applied), metadata: { ...meta, name } };
      if (subresource === "status") throw notFound(type, name);
      const created = this.create(plane, type, namespace, body, { ...opts, dryRun: true });
      created.metadata.managedFields = [this.#managedEntry(type, manager, paths, subresource)];
      if (opts.dryRun) return { object: created, created: true };
      return { object: this.#commit(plane, type, created, "ADDED"), created: true };
    }
    const current = structuredClone(existing);
    const entries = (current.metadata.managedFields ?? []) as JsonObject[];
    const mine = entries.find(entryMatches);
    const previous = mine ? fieldsV1ToPaths(mine.fieldsV1) : [];

    // Fields another applier owns and we would change are conflicts unless forced.
    const conflicts: { manager: string; path: FieldPath }[] = [];
    for (const other of entries) {
      if (entryMatches(other) || other.operation !== "Apply") continue;
      for (const owned of fieldsV1ToPaths(other.fieldsV1)) {
        for (const path of paths) {
          if (
            pathsOverlap(owned, path) && !deepEqual(getPath(current, path), getPath(applied, path))
          ) {
            conflicts.push({ manager: String(other.manager), path });
          }
        }
      }
    }
    if (conflicts.length && !opts.force) throw applyConflict(conflicts);

    let merged = applyMerge(current, JSON.parse(JSON.stringify(scoped))) as KubeObject;
    const ownedByOthers = entries.filter((e) => !entryMatches(e)).flatMap((e) =>
      fieldsV1ToPaths(e.fieldsV1)
    );
    for (const path of previous) {
      const stillApplied = paths.some((p) => pathsOverlap(p, path));
      const othersOwn = ownedByOthers.some((p) => pathsOverlap(p, path));
      if (!stillApplied && !othersOwn) deletePath(merged, path);
    }
    merged.metadata.resourceVersion = current.metadata.resourceVersion;

    let newEntries = entries;
    const samePaths = mine && deepEqual(mine.fieldsV1, pathsToFieldsV1(paths));
    if (!samePaths || conflicts.length) {
      newEntries = entries.filter((e) => !entryMatches(e)).map((e) => {
        if (!conflicts.some((c) => c.manager === e.manager)) return e;
        const kept = fieldsV1ToPaths(e.fieldsV1).filter((p) =>
          !conflicts.some((c) => pathsOverlap(c.path, p))
        );
        return { ...e, fieldsV1: pathsToFieldsV1(kept) };
      });
      newEntries.push(this.#managedEntry(type, manager, paths, subresource));
    }
    merged = structuredClone(merged);
    const next = this.#prepareUpdate(type, current, merged, subresource);
    if (!next && newEntries === entries) return { object: current, created: false };
    const target = next ?? structuredClone(current);
    target.metadata.managedFields = newEntries;
    return { object: this.#finish(plane, type, target, opts.dryRun), created: false };
  }

  #managedEntry(
    type: ResourceType,
    manager: string,
    paths: FieldPath[],
    subresource: string | undefined,
  ): JsonObject {
    return {
      manager,
      operation: "Apply",
      apiVersion: groupVersion(type),
      time: kubeNow(),
      fieldsType: "FieldsV1",
      fieldsV1: pathsToFieldsV1(paths),
      ...(subresource ? { subresource } : {}),
    };
  }

  /** Deletes an object; with finalizers it only gets a deletionTimestamp. */
  delete(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { dryRun?: boolean; resourceVersion?: string; uid?: string } = {},
  ): KubeObject {
    const current = this.#require(plane, type, namespace, name);
    if (opts.resourceVersion && opts.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    if (opts.uid && opts.uid !== current.metadata.uid) {
      throw new ApiError(
        409,
        "Conflict",
        `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (opts.dryRun) return current;
    if (current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return current;
      current.metadata.deletionTimestamp = kubeNow();
      current.metadata.deletionGracePeriodSeconds = 0;
      return this.#commit(plane, type, current, "MODIFIED");
    }
    return this.#commit(plane, type, current, "DELETED");
  }

  /**
   * Changes an object's status in place (what controllers do through `/status`); `mutate`
   * edits the copy it is given. Returns the stored object, or undefined when it is gone.
   */
  writeStatus(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (obj: KubeObject) => void,
  ): KubeObject | undefined {
    const current = this.get(plane, type, namespace, name);
    if (!current) return undefined;
    const draft = structuredClone(current);
    mutate(draft);
    const next = this.#prepareUpdate(
      type,
      current,
      draft,
      type.statusSubresource ? "status" : undefined,
    );
    if (!next) return current;
    return this.#finish(plane, type, next);
  }

  /** Creates or replaces an object as a controller would, without resourceVersion checks. */
  upsert(plane: string, type: ResourceType, obj: JsonObject): KubeObject {
    const meta = obj.metadata as JsonObject;
    const current = this.get(plane, type, meta.namespace as string | undefined, String(meta.name));
    if (!current) {
      return this.create(plane, type, meta.namespace as string | undefined, obj, {
        subresource: "status",
      });
    }
    const draft = {
      ...structuredClone(obj),
      metadata: { ...meta, resourceVersion: current.metadata.resourceVersion },
    };
    const next = this.#prepareUpdate(type, current, draft, undefined);
    const stored = next ? this.#finish(plane, type, next) : current;
    if (obj.status !== undefined && type.statusSubresource) {
      return this.writeStatus(plane, type, stored.metadata.namespace, stored.metadata.name, (o) => {
        o.status = structuredClone(obj.status);
      }) ?? stored;
    }
    return stored;
  }
}
