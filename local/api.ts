/**
 * The control-plane emulator's HTTP server: Datum's URL layout (platform, user, organization
 * and project control planes), bearer-token checks, membership authorisation, discovery,
 * OpenAPI, tables, CRUD with Kubernetes semantics, watches, the front-end fault switches, and
 * the `/_local` admin routes (handled by the stack).
 *
 * Exports {@link startEmulator}.
 */

import { parse as parseYaml } from "yaml";
import { ApiError, badRequest, forbidden } from "./api_status.ts";
import { type Faults, QUOTA_TIMEOUT_MESSAGE, UPSTREAM_RESET_MESSAGE } from "./faults.ts";
import type { OpenApiDocs } from "./openapi.ts";
import type { TokenIdentity } from "./provider.ts";
import {
  groupVersion,
  type PlaneKind,
  type ResourceRegistry,
  type ResourceType,
} from "./resources.ts";
import { parseFieldSelector, parseLabelSelector, type Selector } from "./selectors.ts";
import type { KubeObject, ObjectStore, PatchType, StoreEvent } from "./store.ts";
import { toTable, wantsTable } from "./table.ts";
import { orgPlane, projectPlane, type Tenancy, userPlane } from "./tenancy.ts";
import type { SeedAccount } from "./seed.ts";

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  store: ObjectStore;
  registry: ResourceRegistry;
  tenancy: Tenancy;
  faults: Faults;
  openapi: OpenApiDocs;
  verifyToken(token: string): Promise<TokenIdentity | undefined>;
  /** Handles `/_local/...` (no token needed: loopback only). */
  admin(req: Request, url: URL): Promise<Response>;
}

/** A running emulator. */
export interface Emulator {
  url: string;
  close(): Promise<void>;
}

/** A resolved control plane of a request. */
interface Plane {
  kind: PlaneKind;
  /** Store key (`user/<sub>`, ...). */
  key: string;
  /** URL path of its root (no trailing slash). */
  prefix: string;
}

const VERSION_INFO = {
  major: "1",
  minor: "33",
  gitVersion: "v1.33.0-datum-local",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.24.0",
  compiler: "gc",
  platform: "linux/amd64",
};

/** How often a watch that allows bookmarks gets one. */
const BOOKMARK_INTERVAL_MS = 15_000;

const ALL_VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];
const READ_VERBS = ["get", "list", "watch"];

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function statusResponse(err: ApiError): Response {
  return json(err.toStatus(), err.code);
}

function unauthorized(): Response {
  return statusResponse(new ApiError(401, "Unauthorized", "Unauthorized"));
}

const PLANE_PATTERNS: { kind: PlaneKind; re: RegExp }[] = [
  {
    kind: "user",
    re: /^\/apis\/iam\.miloapis\.com\/v1alpha1\/users\/([^/]+)\/control-plane(\/.*)?$/,
  },
  {
    kind: "org",
    re:
      /^\/apis\/resourcemanager\.miloapis\.com\/v1alpha1\/organizations\/([^/]+)\/control-plane(\/.*)?$/,
  },
  {
    kind: "project",
    re:
      /^\/apis\/resourcemanager\.miloapis\.com\/v1alpha1\/projects\/([^/]+)\/control-plane(\/.*)?$/,
  },
];

/** Starts the emulator on 127.0.0.1. */
export function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const { store, registry, tenancy, faults } = opts;
  const watchClosers = new Set<() => void>();

  /** Where a kind's objects are stored for a plane (users and orgs are shared). */
  function storageKey(plane: Plane, type: ResourceType): string {
    if (type.group === "iam.miloapis.com" && type.plural === "users") return "platform";
    if (type.group === "resourcemanager.miloapis.com" && type.plural === "organizations") {
      return "platform";
    }
    return plane.key;
  }

  /** Extra visibility rule for shared kinds (only your own user; only your orgs). */
  function visibleTo(account: SeedAccount, type: ResourceType): Selector {
    if (type.group === "iam.miloapis.com" && type.plural === "users") {
      return (obj) => (obj.metadata as { name: string }).name === account.id;
    }
    if (type.group === "resourcemanager.miloapis.com" && type.plural === "organizations") {
      return (obj) => tenancy.isMember(account, (obj.metadata as { name: string }).name);
    }
    return () => true;
  }

  function resolvePlane(path: string, account: SeedAccount): { plane: Plane; rest: string } {
    for (const { kind, re } of PLANE_PATTERNS) {
      const m = path.match(re);
      if (!m) continue;
      const id = decodeURIComponent(m[1]);
      const rest = m[2] ?? "";
      const prefix = path.slice(0, path.length - rest.length);
      if (kind === "user") {
        if (id !== account.id) {
          throw forbidden(account.email, "get", { plural: "users", group: "iam.miloapis.com" }, id);
        }
        return { plane: { kind, key: userPlane(id), prefix }, rest };
      }
      if (kind === "org") {
        if (!tenancy.organization(id) || !tenancy.isMember(account, id)) {
          throw forbidden(account.email, "get", {
            plural: "organizations",
            group: "resourcemanager.miloapis.com",
          }, id);
        }
        return { plane: { kind, key: orgPlane(id), prefix }, rest };
      }
      const org = tenancy.organizationOf(id);
      if (!org || !tenancy.isMember(account, org)) {
        throw forbidden(account.email, "get", {
          plural: "projects",
          group: "resourcemanager.miloapis.com",
        }, id);
      }
      tenancy.ensureProjectPlane(id);
      return { plane: { kind, key: projectPlane(id), prefix }, rest };
    }
    return { plane: { kind: "platform", key: "platform", prefix: "" }, rest: path };
  }

  function apiResource(type: ResourceType) {
    const verbs = type.readOnly ? READ_VERBS : ALL_VERBS;
    const main = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs,
      ...(type.shortNames ? { shortNames: type.shortNames } : {}),
      ...(type.categories ? { categories: type.categories } : {}),
      storageVersionHash: btoa(`${groupVersion(type)}/${type.kind}`).slice(0, 11),
    };
    if (!type.statusSubresource) return [main];
    return [main, {
      name: `${type.plural}/status`,
      singularName: "",
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.readOnly ? ["get"] : ["get", "patch", "update"],
    }];
  }

  function apiGroup(group: string, types: ResourceType[]) {
    const versions = [...new Set(types.filter((t) => t.group === group).map((t) => t.version))]
      .sort((a, b) => (b.length - a.length) || b.localeCompare(a))
      .map((version) => ({ groupVersion: `${group}/${version}`, version }));
    return { name: group, versions, preferredVersion: versions[0] };
  }

  async function discovery(plane: Plane, rest: string): Promise<Response | undefined> {
    const types = registry.forPlane(plane.kind);
    if (rest === "" || rest === "/") {
      const paths = ["/api", "/api/v1", "/apis", "/openapi/v3", "/version"];
      for (const t of types) {
        if (t.group) paths.push(`/apis/${t.group}`, `/apis/${groupVersion(t)}`);
      }
      return json({ paths: [...new Set(paths)].sort() });
    }
    if (rest === "/version") return json(VERSION_INFO);
    if (rest === "/api") {
      return json({
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
      });
    }
    if (rest === "/api/v1") {
      return json({
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: types.filter((t) => t.group === "").flatMap(apiResource),
      });
    }
    if (rest === "/apis") {
      const groups = [...new Set(types.map((t) => t.group).filter(Boolean))].sort();
      return json({
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: groups.map((g) => apiGroup(g, types)),
      });
    }
    let m = rest.match(/^\/apis\/([^/]+)\/?$/);
    if (m && types.some((t) => t.group === m![1])) {
      return json({ kind: "APIGroup", apiVersion: "v1", ...apiGroup(m[1], types) });
    }
    m = rest.match(/^\/apis\/([^/]+)\/([^/]+)\/?$/);
    if (m) {
      const inGv = types.filter((t) => t.group === m![1] && t.version === m![2]);
      if (inGv.length) {
        return json({
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: `${m[1]}/${m[2]}`,
          resources: inGv.flatMap(apiResource),
        });
      }
    }
    if (rest === "/openapi/v3") return json(opts.openapi.index(plane.prefix, types));
    m = rest.match(/^\/openapi\/v3\/(?:apis\/([^/]+)\/([^/]+)|api\/(v1))$/);
    if (m) {
      const [group, version] = m[3] ? ["", "v1"] : [m[1], m[2]];
      const inGv = types.filter((t) => t.group === group && t.version === version);
      if (inGv.length) return json(await opts.openapi.document(inGv));
    }
    return undefined;
  }

  async function readBody(req: Request): Promise<unknown> {
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

  function patchTypeOf(contentType: string | null): PatchType {
    const ct = (contentType ?? "").split(";")[0].trim();
    switch (ct) {
      case "application/merge-patch+json":
        return "merge";
      case "application/json-patch+json":
        return "json";
      case "application/strategic-merge-patch+json":
        return "strategic";
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

  function listBody(type: ResourceType, items: KubeObject[], continueToken?: string) {
    return {
      apiVersion: groupVersion(type),
      kind: `${type.kind}List`,
      metadata: {
        resourceVersion: store.resourceVersion,
        ...(continueToken ? { continue: continueToken } : {}),
      },
      items,
    };
  }

  function quotaCheck(type: ResourceType, plane: Plane) {
    if (plane.kind === "platform" || plane.kind === "user") return;
    if (faults.takeQuotaTimeout()) {
      throw new ApiError(403, "Forbidden", QUOTA_TIMEOUT_MESSAGE, {
        group: type.group,
        kind: type.plural,
      });
    }
  }

  function watch(
    req: Request,
    url: URL,
    plane: Plane,
    type: ResourceType,
    namespace: string | undefined,
    matches: Selector,
  ): Response {
    const key = storageKey(plane, type);
    const table = wantsTable(req.headers.get("accept"));
    const includeObject = url.searchParams.get("includeObject");
    const rvParam = url.searchParams.get("resourceVersion");
    const timeout = Number(url.searchParams.get("timeoutSeconds") ?? "0");
    const encoder = new TextEncoder();
    const inScope = (e: StoreEvent) =>
      e.plane === key && e.resource.group === type.group && e.resource.plural === type.plural &&
      (namespace === undefined || e.object.metadata.namespace === namespace);
    const encode = (type_: string, obj: KubeObject | Record<string, unknown>) => {
      const object = table && type_ !== "ERROR"
        ? toTable(
          type,
          [obj as KubeObject],
          String((obj as KubeObject).metadata.resourceVersion),
          includeObject,
        )
        : obj;
      return encoder.encode(JSON.stringify({ type: type_, object }) + "\n");
    };
    const bookmarks = url.searchParams.get("allowWatchBookmarks") === "true";
    // A bookmark carries only the kind and the store's current resourceVersion.
    const bookmark = (annotations?: Record<string, string>) =>
      encoder.encode(
        JSON.stringify({
          type: "BOOKMARK",
          object: {
            kind: type.kind,
            apiVersion: groupVersion(type),
            metadata: {
              resourceVersion: store.resourceVersion,
              ...(annotations ? { annotations } : {}),
            },
          },
        }) + "\n",
      );
    let cleanup = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          cleanup();
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        };
        const matching = new Set<string>();
        const current = store.list(key, type, namespace).filter(matches);
        const initialEvents = url.searchParams.get("sendInitialEvents") === "true";
        if (!rvParam || rvParam === "0" || initialEvents) {
          for (const obj of current) controller.enqueue(encode("ADDED", obj));
          if (initialEvents && bookmarks) {
            controller.enqueue(bookmark({ "k8s.io/initial-events-end": "true" }));
          }
        } else {
          const events = store.eventsSince(Number(rvParam));
          if (events === undefined || Number.isNaN(Number(rvParam))) {
            controller.enqueue(encode(
              "ERROR",
              new ApiError(
                410,
                "Expired",
                `too old resource version: ${rvParam} (${store.resourceVersion})`,
              ).toStatus(),
            ));
            closed = true;
            controller.close();
            return;
          }
          for (const e of events) {
            if (inScope(e) && matches(e.object)) controller.enqueue(encode(e.type, e.object));
          }
        }
        for (const obj of current) matching.add(obj.metadata.name + "/" + obj.metadata.namespace);
        const unsubscribe = store.subscribe((e) => {
          if (!inScope(e)) return;
          const id = e.object.metadata.name + "/" + e.object.metadata.namespace;
          const was = matching.has(id);
          const now = e.type !== "DELETED" && matches(e.object);
          let type_: string | undefined;
          if (e.type === "DELETED") type_ = was ? "DELETED" : undefined;
          else if (now) type_ = was ? "MODIFIED" : "ADDED";
          else if (was) type_ = "DELETED";
          if (now) matching.add(id);
          else matching.delete(id);
          if (type_) {
            try {
              controller.enqueue(encode(type_, e.object));
            } catch {
              close();
            }
          }
        });
        const timer = timeout > 0 ? setTimeout(close, timeout * 1000) : undefined;
        const ticker = bookmarks
          ? setInterval(() => {
            try {
              controller.enqueue(bookmark());
            } catch {
              close();
            }
          }, BOOKMARK_INTERVAL_MS)
          : undefined;
        cleanup = () => {
          unsubscribe();
          if (timer) clearTimeout(timer);
          if (ticker) clearInterval(ticker);
          watchClosers.delete(close);
        };
        watchClosers.add(close);
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/json", "cache-control": "no-cache" },
    });
  }

  async function resourceRequest(
    req: Request,
    url: URL,
    plane: Plane,
    account: SeedAccount,
    rest: string,
  ): Promise<Response | undefined> {
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
    const visible = visibleTo(account, type);
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
        if (isWatch) return watch(req, url, plane, type, namespace, matches);
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
        return json(listBody(type, items, next));
      }
      if (type.namespaced && namespace === undefined) return undefined;
      if (method === "POST") {
        if (type.readOnly) throw deny("create");
        quotaCheck(type, plane);
        const created = store.create(key, type, namespace, await readBody(req), {
          dryRun,
          fieldManager,
        });
        return json(created, 201);
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
        return json(listBody(type, deleted));
      }
      throw new ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
      );
    }

    if (type.namespaced && namespace === undefined) return undefined;
    if (method === "GET") {
      if (isWatch) {
        const matches: Selector = (obj) =>
          visible(obj) && (obj.metadata as { name: string }).name === name;
        return watch(req, url, plane, type, namespace, matches);
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
      return json(obj);
    }
    if (type.readOnly) {
      throw deny(method === "DELETE" ? "delete" : method === "PUT" ? "update" : "patch");
    }
    if (method === "PUT") {
      return json(
        store.update(key, type, namespace, name, await readBody(req), {
          dryRun,
          subresource: sub,
          fieldManager,
        }),
      );
    }
    if (method === "PATCH") {
      const patchType = patchTypeOf(req.headers.get("content-type"));
      const force = url.searchParams.get("force") === "true";
      if (patchType === "apply" && !store.get(key, type, namespace, name)) quotaCheck(type, plane);
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
      return json(object, created ? 201 : 200);
    }
    if (method === "DELETE") {
      const options = await readBody(req).catch(() => undefined) as
        | { preconditions?: { resourceVersion?: string; uid?: string }; dryRun?: string[] }
        | undefined;
      return json(store.delete(key, type, namespace, name, {
        dryRun: dryRun || !!options?.dryRun?.includes("All"),
        resourceVersion: options?.preconditions?.resourceVersion,
        uid: options?.preconditions?.uid,
      }));
    }
    throw new ApiError(
      405,
      "MethodNotAllowed",
      "the server does not allow this method on the requested resource",
    );
  }

  function selfReview(req: Request, account: SeedAccount, rest: string): Response | undefined {
    if (req.method !== "POST") return undefined;
    if (rest === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
      return json({
        kind: "SelfSubjectReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: null },
        status: {
          userInfo: {
            username: account.email,
            uid: account.id,
            groups: ["system:authenticated"],
            extra: { "iam.miloapis.com/account-kind": [account.kind] },
          },
        },
      }, 201);
    }
    return undefined;
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/_local" || path.startsWith("/_local/")) return await opts.admin(req, url);
    if (faults.take503()) {
      return new Response(UPSTREAM_RESET_MESSAGE, {
        status: 503,
        headers: { "content-type": "text/plain", server: "envoy" },
      });
    }
    if (["/healthz", "/livez", "/readyz"].includes(path)) return new Response("ok");
    if (path === "/version") return json(VERSION_INFO);

    const auth = req.headers.get("authorization") ?? "";
    const token = auth.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return unauthorized();
    const identity = await opts.verifyToken(token);
    if (!identity) return unauthorized();
    const account = identity.account;

    try {
      const { plane, rest } = resolvePlane(path, account);
      const found = await discovery(plane, rest) ?? selfReview(req, account, rest) ??
        await resourceRequest(req, url, plane, account, rest);
      if (found) return found;
      return statusResponse(
        new ApiError(404, "NotFound", "the server could not find the requested resource", {}),
      );
    } catch (e) {
      if (e instanceof ApiError) return statusResponse(e);
      console.error("local stack: emulator error:", e);
      return statusResponse(
        new ApiError(500, "InternalError", `internal error: ${(e as Error).message}`),
      );
    }
  }

  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: opts.port,
      onListen: () => {},
      onError: (e) => {
        console.error("local stack: emulator error:", e);
        return statusResponse(new ApiError(500, "InternalError", "internal error"));
      },
    }, handle);
    const url = `http://127.0.0.1:${server.addr.port}`;
    resolve({
      url,
      async close() {
        for (const close of [...watchClosers]) close();
        await server.shutdown();
      },
    });
  });
}
