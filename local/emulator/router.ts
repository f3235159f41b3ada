/**
 * The control-plane emulator's HTTP server: Datum's URL layout (platform, user, organization
 * and project control planes), bearer-token checks, membership authorisation, the front-end
 * fault switch, and dispatch to discovery, SelfSubjectReview and resource storage; the
 * `/_local` admin routes are handled by the stack.
 */

import { ApiError, forbidden } from "../api_status.ts";
import { type Faults, UPSTREAM_RESET_MESSAGE, WATCH_TOO_LARGE_EVENT } from "../faults.ts";
import type { OpenApiDocs } from "../openapi.ts";
import type { TokenIdentity } from "../provider.ts";
import type { ResourceRegistry } from "../resources.ts";
import type { SeedAccount } from "../seed.ts";
import type { ObjectStore } from "../store.ts";
import { orgPlane, projectPlane, type Tenancy, userPlane } from "../tenancy.ts";
import { discoveryResponse } from "./discovery.ts";
import { json, statusResponse, unauthorized, VERSION_INFO } from "./http.ts";
import { type Plane, splitPlanePath } from "./plane.ts";
import { resourceResponse, type StorageContext } from "./storage.ts";
import { WatchRegistry } from "./watch.ts";

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
  /** Serve HTTPS with this certificate and key (PEM) instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

/** A running emulator. */
export interface Emulator {
  url: string;
  close(): Promise<void>;
}

/** A user id as Datum accepts it: a lowercase object name (letters, digits, `-`, `.`). */
const USER_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The plane a path addresses, after the membership checks. */
function resolvePlane(
  tenancy: Tenancy,
  path: string,
  account: SeedAccount,
): { plane: Plane; rest: string } {
  const found = splitPlanePath(path);
  if (!found) return { plane: { kind: "platform", key: "platform", prefix: "" }, rest: path };
  const { kind, id, prefix, rest } = found;
  if (kind === "user") {
    // Datum checks the id's form first (a user id is an object name), and serves the empty id
    // as an empty plane.
    if (id !== "" && !USER_ID.test(id)) {
      throw new ApiError(400, "BadRequest", `invalid user ID "${id}"`);
    }
    if (id !== "" && id !== account.id) {
      throw forbidden(account.email, "get", { plural: "users", group: "iam.miloapis.com" }, id);
    }
    return { plane: { kind, key: userPlane(id), prefix }, rest };
  }
  if (kind === "org") {
    if (!tenancy.organization(id)) {
      throw new ApiError(
        404,
        "NotFound",
        `organizations.resourcemanager.miloapis.com "${id}" not found`,
        { name: id, group: "resourcemanager.miloapis.com", kind: "organizations" },
      );
    }
    if (!tenancy.isMember(account, id)) {
      throw forbidden(account.email, "get", {
        plural: "organizations",
        group: "resourcemanager.miloapis.com",
      }, id);
    }
    return { plane: { kind, key: orgPlane(id), prefix }, rest };
  }
  // Datum serves any project id: one no organization owns is an empty plane (no namespaces, so
  // a create fails `namespaces "default" not found`); an owned one needs membership.
  const org = tenancy.organizationOf(id);
  if (!org) return { plane: { kind, key: projectPlane(id), prefix }, rest };
  if (!tenancy.isMember(account, org)) {
    throw forbidden(account.email, "get", {
      plural: "projects",
      group: "resourcemanager.miloapis.com",
    }, id);
  }
  tenancy.ensureProjectPlane(id);
  return { plane: { kind, key: projectPlane(id), prefix }, rest };
}

/** Kubernetes' answer to a path it serves nothing at. */
export function notFoundPage(): Response {
  return new Response("404 page not found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

/** 403 for a request without credentials, worded as Kubernetes refuses `system:anonymous`. */
function anonymousForbidden(req: Request, url: URL, path: string): ApiError {
  const rest = splitPlanePath(path)?.rest ?? path;
  const m = rest.match(
    /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?/,
  );
  const user = 'User "system:anonymous"';
  if (!m) {
    return new ApiError(403, "Forbidden", `forbidden: ${user} cannot get path "${rest}"`, {});
  }
  const [, group = "", namespace, plural, name] = m;
  const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
  const verb = ({
    GET: name ? "get" : watch ? "watch" : "list",
    POST: "create",
    PUT: "update",
    PATCH: "patch",
    DELETE: name ? "delete" : "deletecollection",
  } as Record<string, string>)[req.method] ?? req.method.toLowerCase();
  const resource = group ? `${plural}.${group}` : plural;
  const scope = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
  return new ApiError(
    403,
    "Forbidden",
    `${resource}${
      name ? ` "${name}"` : ""
    } is forbidden: ${user} cannot ${verb} resource "${plural}" in API group "${group}" ${scope}`,
    { ...(name ? { name } : {}), group, kind: plural },
  );
}

/** `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`: who the token belongs to. */
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

/** The emulator's request handling, without a server (the real backend's router reuses it). */
export interface EmulatorHandler {
  /** Everything: admin routes, the 503 fault, health, then {@link serveApi}. */
  handle(req: Request): Promise<Response>;
  /** An API request after the front-end checks: token, plane, discovery, storage. */
  serveApi(req: Request, url: URL, path: string): Promise<Response>;
  /** Ends every open watch. */
  closeWatches(): void;
}

/** The emulator's handlers over a store. */
export function emulatorHandler(opts: Omit<EmulatorOptions, "port" | "tls">): EmulatorHandler {
  const { registry, tenancy, faults } = opts;
  const storage: StorageContext = {
    store: opts.store,
    registry,
    tenancy,
    faults,
    watches: new WatchRegistry(),
  };

  async function serveApi(req: Request, url: URL, path: string): Promise<Response> {
    if (["/healthz", "/livez", "/readyz"].includes(path)) return new Response("ok");
    if (path === "/version") return json(VERSION_INFO);

    const auth = req.headers.get("authorization") ?? "";
    const token = auth.match(/^Bearer\s+(\S+)$/i)?.[1];
    // No credentials at all is the anonymous user, whom Kubernetes authorizes (and refuses).
    if (!auth) return statusResponse(anonymousForbidden(req, url, path));
    if (!token) return unauthorized();
    const identity = await opts.verifyToken(token);
    if (!identity) return unauthorized();
    const account = identity.account;

    try {
      const { plane, rest } = resolvePlane(tenancy, path, account);
      const found = await discoveryResponse(rest, registry.forPlane(plane.kind), opts.openapi) ??
        selfReview(req, account, rest) ??
        await resourceResponse(storage, req, url, plane, account, rest);
      if (found) return found;
      return notFoundPage();
    } catch (e) {
      if (e instanceof ApiError) return statusResponse(e);
      console.error("local stack: emulator error:", e);
      return statusResponse(
        new ApiError(500, "InternalError", `internal error: ${(e as Error).message}`),
      );
    }
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/_local" || path.startsWith("/_local/")) return await opts.admin(req, url);
    if (faults.take503()) return upstreamReset();
    const tooLarge = req.headers.has("authorization") ? watchTooLarge(req, url, faults) : undefined;
    if (tooLarge) return tooLarge;
    return await serveApi(req, url, path);
  }

  return { handle, serveApi, closeWatches: () => storage.watches.closeAll() };
}

/**
 * The `watch-rv-too-large` fault: a watch without a resourceVersion gets the 504
 * ResourceVersionTooLarge ERROR event as its only line; undefined when the fault does not apply.
 */
export function watchTooLarge(req: Request, url: URL, faults: Faults): Response | undefined {
  const watching = url.searchParams.get("watch") === "true" ||
    url.searchParams.get("watch") === "1" ||
    /\/watch\//.test(url.pathname);
  if (req.method !== "GET" || !watching || url.searchParams.get("resourceVersion")) {
    return undefined;
  }
  if (!faults.takeWatchTooLarge()) return undefined;
  return new Response(JSON.stringify(WATCH_TOO_LARGE_EVENT) + "\n", {
    headers: { "content-type": "application/json" },
  });
}

/** The 503 Datum's front end answers when its upstream resets (the `api-503` fault). */
export function upstreamReset(): Response {
  return new Response(UPSTREAM_RESET_MESSAGE, {
    status: 503,
    headers: { "content-type": "text/plain", server: "envoy" },
  });
}

/** Serves a handler on 127.0.0.1 (HTTPS when `tls` is given); resolves with its URL. */
export function serveLoopback(
  port: number,
  tls: { cert: string; key: string } | undefined,
  handle: (req: Request) => Promise<Response>,
): { url: string; server: Deno.HttpServer } {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
    onListen: () => {},
    onError: (e) => {
      console.error("local stack: API error:", e);
      return statusResponse(new ApiError(500, "InternalError", "internal error"));
    },
  }, handle);
  return { url: `${tls ? "https" : "http"}://127.0.0.1:${server.addr.port}`, server };
}

/** Starts the emulator on 127.0.0.1. */
export function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const handler = emulatorHandler(opts);
  const { url, server } = serveLoopback(opts.port, opts.tls, handler.handle);
  return Promise.resolve({
    url,
    async close() {
      handler.closeWatches();
      await server.shutdown();
    },
  });
}
