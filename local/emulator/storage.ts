/**
 * Kubernetes resource requests over the object store: GET / LIST (selectors, paging, tables),
 * POST, PUT, PATCH (merge, JSON, apply), DELETE of one object or a collection, the status
 * subresource, dry runs, the shared kinds' visibility rules and the quota fault.
 */

import { parse as parseYaml } from "yaml";
import { ApiError, badRequest, forbidden } from "../api_status.ts";
import { type Faults, QUOTA_TIMEOUT_MESSAGE } from "../faults.ts";
import { groupVersion, type ResourceRegistry, type ResourceType } from "../resources.ts";
import type { SeedAccount } from "../seed.ts";
import { parseFieldSelector, parseLabelSelector, type Selector } from "../selectors.ts";
import type { KubeObject, ObjectStore, PatchType } from "../store.ts";
import { toTable, wantsTable } from "../table.ts";
import type { Tenancy } from "../tenancy.ts";
import { json, objectJson } from "./http.ts";
import type { Plane } from "./plane.ts";
import { type WatchRegistry, watchResponse } from "./watch.ts";

/** What resource requests work on. */
export interface StorageContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  tenancy: Tenancy;
  faults: Faults;
  watches: WatchRegistry;
}

/** Where a kind's objects are stored for a plane (users and orgs are shared). */
function storageKey(plane: Plane, type: ResourceType): string {
  if (type.group === "iam.miloapis.com" && type.plural === "users") return "platform";
  if (type.group === "resourcemanager.miloapis.com" && type.plural === "organizations") {
    return "platform";
  }
  return plane.key;
}

/** Extra visibility rule for shared kinds (only your own user; only your orgs). */
function visibleTo(tenancy: Tenancy, account: SeedAccount, type: ResourceType): Selector {
  if (type.group === "iam.miloapis.com" && type.plural === "users") {
    return (obj) => (obj.metadata as { name: string }).name === account.id;
  }
  if (type.group === "resourcemanager.miloapis.com" && type.plural === "organizations") {
    return (obj) => tenancy.isMember(account, (obj.metadata as { name: string }).name);
  }
  return () => true;
}

/** The request body as JSON or YAML (by content type); undefined when empty. */
export async function readBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return undefined;
  const type = req.headers.get("content-type") ?? "";
  try {
    if (/yaml/.test(type)) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body could not be decoded: ${(e as Error).message}`);
  }
}

/** The patch type of a PATCH's content type; 415 for anything else. */
export function patchTypeOf(contentType: string | null): PatchType {
  const ct = (contentType ?? "").split(";")[0].trim();
  switch (ct) {
    case "application/merge-patch+json":
      return "merge";
    case "application/json-patch+json":
      return "json";
    case "application/apply-patch+yaml":
    case "application/apply-patch+json":
      return "apply";
  }
  throw new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
  );
}

function listBody(
  store: ObjectStore,
  type: ResourceType,
  items: KubeObject[],
  continueToken?: string,
) {
  return {
    apiVersion: groupVersion(type),
    kind: `${type.kind}List`,
    metadata: {
      resourceVersion: store.resourceVersion,
      continue: continueToken ?? "",
    },
    items,
  };
}

function quotaCheck(faults: Faults, type: ResourceType, plane: Plane) {
  if (plane.kind === "platform" || plane.kind === "user") return;
  if (faults.takeQuotaTimeout()) {
    throw new ApiError(403, "Forbidden", QUOTA_TIMEOUT_MESSAGE, {
      group: type.group,
      kind: type.plural,
    });
  }
}

/** A create or update body, which must say its kind, as the real decoder insists. */
function withKind(type: ResourceType, body: unknown): unknown {
  if (body && typeof body === "object" && !Array.isArray(body) && !("kind" in body)) {
    const text = JSON.stringify(body);
    throw badRequest(
      `the object provided is unrecognized (must be of type ${type.kind}): Object 'Kind' is missing in '${text}' (${text})`,
    );
  }
  return body;
}

function methodNotAllowed(): ApiError {
  return new ApiError(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
  );
}

/** Answers a resource path of a plane, or undefined when `rest` names no served resource. */
export async function resourceResponse(
  ctx: StorageContext,
  req: Request,
  url: URL,
  plane: Plane,
  account: SeedAccount,
  rest: string,
): Promise<Response | undefined> {
  const { store, registry, tenancy, faults } = ctx;
  const m = rest.match(/^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/);
  if (!m) return undefined;
  const [group, version] = m[1] ? ["", "v1"] : [m[2], m[3]];
  let segs = m[4].split("/").filter(Boolean).map(decodeURIComponent);
  let isWatch = ["true", "1"].includes(url.searchParams.get("watch") ?? "");
  if (segs[0] === "watch") {
    isWatch = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  const nsType = segs[0] === "namespaces" && segs.length >= 3
    ? registry.find(plane.kind, group, version, segs[2])
    : undefined;
  if (nsType?.namespaced) {
    namespace = segs[1];
    segs = segs.slice(2);
  }
  const [plural, name, subresource, ...extra] = segs;
  const type = registry.find(plane.kind, group, version, plural);
  if (!type || extra.length) return undefined;
  if (subresource !== undefined && !(subresource === "status" && type.statusSubresource)) {
    return undefined;
  }
  if (!type.namespaced && namespace !== undefined) return undefined;
  const key = storageKey(plane, type);
  const visible = visibleTo(tenancy, account, type);
  const dryRun = url.searchParams.getAll("dryRun").includes("All");
  const fieldManager = url.searchParams.get("fieldManager") ?? undefined;
  const sub = subresource as "status" | undefined;
  const method = req.method;

  if (type.namespaced && namespace !== undefined && method !== "GET") {
    if (!store.get(plane.key, tenancy.namespaces, undefined, namespace)) {
      throw new ApiError(404, "NotFound", `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: "namespaces",
      });
    }
  }
  const deny = (verb: string) => forbidden(account.email, verb, type, name);
  const table = wantsTable(req.headers.get("accept"));
  const includeObject = url.searchParams.get("includeObject");

  if (name === undefined) {
    if (method === "GET") {
      const matches: Selector = (() => {
        const field = parseFieldSelector(
          url.searchParams.get("fieldSelector"),
          type.selectableFields,
        );
        const label = parseLabelSelector(url.searchParams.get("labelSelector"));
        return (obj) => visible(obj) && field(obj) && label(obj);
      })();
      if (isWatch) {
        return watchResponse(store, ctx.watches, req, url, key, type, namespace, matches);
      }
      let items = store.list(key, type, namespace).filter(matches);
      const limit = Number(url.searchParams.get("limit") ?? "0");
      const cont = url.searchParams.get("continue");
      const offset = cont ? Number(atob(cont)) || 0 : 0;
      let next: string | undefined;
      if (offset) items = items.slice(offset);
      if (limit > 0 && items.length > limit) {
        items = items.slice(0, limit);
        next = btoa(String(offset + limit));
      }
      if (table) return json(toTable(type, items, store.resourceVersion, includeObject));
      return objectJson(listBody(store, type, items, next));
    }
    if (type.namespaced && namespace === undefined) return undefined;
    if (method === "POST") {
      if (type.readOnly) throw deny("create");
      quotaCheck(faults, type, plane);
      const created = store.create(key, type, namespace, withKind(type, await readBody(req)), {
        dryRun,
        fieldManager,
      });
      return objectJson(created, 201);
    }
    if (method === "DELETE") {
      if (type.readOnly) throw deny("deletecollection");
      const field = parseFieldSelector(
        url.searchParams.get("fieldSelector"),
        type.selectableFields,
      );
      const label = parseLabelSelector(url.searchParams.get("labelSelector"));
      const deleted = store.list(key, type, namespace).filter((o) => field(o) && label(o)).map((
        o,
      ) => store.delete(key, type, namespace, o.metadata.name, { dryRun }));
      return objectJson(listBody(store, type, deleted));
    }
    throw methodNotAllowed();
  }

  if (type.namespaced && namespace === undefined) return undefined;
  if (method === "GET") {
    if (isWatch) {
      const matches: Selector = (obj) =>
        visible(obj) && (obj.metadata as { name: string }).name === name;
      return watchResponse(store, ctx.watches, req, url, key, type, namespace, matches);
    }
    const obj = store.get(key, type, namespace, name);
    if (!obj || !visible(obj)) {
      if (obj) throw deny("get");
      throw new ApiError(
        404,
        "NotFound",
        `${type.group ? `${type.plural}.${type.group}` : type.plural} "${name}" not found`,
        {
          name,
          group: type.group,
          kind: type.plural,
        },
      );
    }
    if (table) return json(toTable(type, [obj], obj.metadata.resourceVersion, includeObject));
    return objectJson(obj);
  }
  if (type.readOnly) {
    throw deny(method === "DELETE" ? "delete" : method === "PUT" ? "update" : "patch");
  }
  if (method === "PUT") {
    return objectJson(
      store.update(key, type, namespace, name, withKind(type, await readBody(req)), {
        dryRun,
        subresource: sub,
        fieldManager,
      }),
    );
  }
  if (method === "PATCH") {
    const patchType = patchTypeOf(req.headers.get("content-type"));
    const force = url.searchParams.get("force") === "true";
    if (patchType === "apply" && !store.get(key, type, namespace, name)) {
      quotaCheck(faults, type, plane);
    }
    const { object, created } = store.patch(
      key,
      type,
      namespace,
      name,
      patchType,
      await readBody(req),
      {
        dryRun,
        subresource: sub,
        fieldManager,
        force,
      },
    );
    return objectJson(object, created ? 201 : 200);
  }
  if (method === "DELETE") {
    const options = await readBody(req).catch(() => undefined) as
      | { preconditions?: { resourceVersion?: string; uid?: string }; dryRun?: string[] }
      | undefined;
    const deleted = store.delete(key, type, namespace, name, {
      dryRun: dryRun || !!options?.dryRun?.includes("All"),
      resourceVersion: options?.preconditions?.resourceVersion,
      uid: options?.preconditions?.uid,
    });
    // Finalizers keep it (the object is answered); gone, Kubernetes answers a Success Status.
    if (deleted.metadata.deletionTimestamp) return objectJson(deleted);
    return json({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, group: type.group, kind: type.plural, uid: deleted.metadata.uid },
    });
  }
  throw methodNotAllowed();
}
