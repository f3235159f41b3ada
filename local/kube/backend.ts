/**
 * The stack's real backend: etcd, one `apiextensions-apiserver` per control plane (started on
 * first use), the webhooks they authenticate and authorize through, the informer cache the
 * controllers and the gateway read, and the router in front that serves Datum's URL layout.
 *
 * The router forwards a plane's `/apis/<group>/…` requests to that plane's server, with the
 * caller's own token, and serves itself what the API server does not: the root discovery
 * `/apis`, the core group `/api/v1` (namespaces, configmaps, events, secrets), `/openapi/v3`
 * (from the same schemas as the CRDs), SelfSubjectReview, the platform root, the `/_local`
 * admin routes and the front-end faults. The
 * directory (users, organizations, memberships, the projects of each organization) stays in the
 * stack's store, which decides memberships; each plane's server gets copies of its plane's
 * objects when it starts, and Projects created in an organization's plane flow back.
 */

import { ApiError } from "../api_status.ts";
import {
  emulatorHandler,
  type EmulatorOptions,
  notFoundPage,
  serveLoopback,
  upstreamReset,
  watchTooLarge,
} from "../emulator/router.ts";
import { statusResponse } from "../emulator/http.ts";
import { splitPlanePath } from "../emulator/plane.ts";
import { QUOTA_TIMEOUT_MESSAGE } from "../faults.ts";
import type { JsonObject } from "../patch.ts";
import type { PlaneKind, ResourceType } from "../resources.ts";
import { SEED_ACCOUNTS } from "../seed.ts";
import type { KubeObject } from "../store.ts";
import { orgPlane, projectPlane, userPlane } from "../tenancy.ts";
import type { StackCertificates } from "../tls.ts";
import { PlaneServers, startEtcd } from "./apiserver.ts";
import { KubeCluster } from "./cluster.ts";
import { CRD_KINDS } from "./crds.ts";
import { startWebhook } from "./webhook.ts";

/** Options for {@link startKubeBackend}: the emulator's, plus the API server and certificates. */
export interface KubeBackendOptions extends EmulatorOptions {
  /** The `apiextensions-apiserver` binary. */
  binary: string;
  /** The CA and server certificate (the plane servers' TLS, and the router's when `tls`). */
  certs: StackCertificates;
}

/** A running real backend. */
export interface KubeBackend {
  /** The router's URL (the stack's API endpoint). */
  url: string;
  /** The control planes as the controllers and the gateway see them. */
  cluster: KubeCluster;
  /** Installs a kind registered at run time on the running planes that serve it. */
  kindAdded(type: ResourceType): Promise<void>;
  close(): Promise<void>;
}

/** Server-managed metadata dropped when a stored object is copied into a plane's server. */
function copyable(obj: KubeObject): JsonObject {
  const { name, namespace, labels, annotations, finalizers, ownerReferences } = obj.metadata;
  const { metadata: _m, ...rest } = obj;
  return {
    ...rest,
    metadata: JSON.parse(
      JSON.stringify({ name, namespace, labels, annotations, finalizers, ownerReferences }),
    ),
  };
}

/** Starts etcd, the webhooks and the router; plane servers start on first use. */
export async function startKubeBackend(opts: KubeBackendOptions): Promise<KubeBackend> {
  const { store, registry, tenancy, faults, certs } = opts;
  const dir = await Deno.makeTempDir({ prefix: "datum-local-kube-" });
  const cleanups: (() => Promise<void> | void)[] = [
    () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  ];
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };
  try {
    const etcd = await startEtcd(dir);
    cleanups.push(() => etcd.stop());
    const controller = {
      token: crypto.randomUUID() + crypto.randomUUID(),
      username: "system:datum-local-controllers",
    };
    const webhook = startWebhook({
      verifyToken: opts.verifyToken,
      controller,
      tenancy,
      registry,
    });
    cleanups.push(() => webhook.close());
    const http = Deno.createHttpClient({ caCerts: [certs.caPem] });
    cleanups.push(() => http.close());
    const servers = new PlaneServers({
      binary: opts.binary,
      etcd: etcd.url,
      dir,
      certs,
      webhook: webhook.url,
      token: controller.token,
      http,
    });
    cleanups.push(() => servers.stop());
    const cluster = new KubeCluster();
    cleanups.push(() => cluster.stop());
    const emulator = emulatorHandler(opts);
    cleanups.push(() => emulator.closeWatches());
    // Forwarded requests (watches above all) end when the stack stops.
    const closing = new AbortController();
    cleanups.push(() => closing.abort());

    const planeKind = (key: string) => key.slice(0, key.indexOf("/")) as PlaneKind;
    const crdKinds = (kind: PlaneKind) => CRD_KINDS(registry.forPlane(kind));

    /** Copies what the store holds for a plane into its new server. */
    const seedPlane = async (key: string) => {
      const kind = planeKind(key);
      const account = kind === "user"
        ? SEED_ACCOUNTS.find((a) => a.id === key.slice(5))
        : undefined;
      for (const type of crdKinds(kind)) {
        let objects = store.list(key, type);
        if (kind === "user" && type.plural === "users") {
          objects = store.list("platform", type).filter((o) => o.metadata.name === account?.id);
        } else if (kind === "user" && type.plural === "organizations") {
          objects = store.list("platform", type).filter((o) =>
            account && tenancy.isMember(account, o.metadata.name)
          );
        }
        for (const obj of objects) await cluster.upsert(key, type, copyable(obj));
      }
    };

    const ready = new Map<string, Promise<string>>();
    /** The plane's server URL once it runs, holds its CRDs and its seed objects. */
    const planeUrl = (key: string): Promise<string> => {
      let running = ready.get(key);
      if (!running) {
        running = (async () => {
          const types = crdKinds(planeKind(key));
          const server = await servers.get(key, types);
          await cluster.addPlane(key, server.client, types);
          await seedPlane(key);
          return server.url;
        })();
        ready.set(key, running);
        running.catch(() => ready.delete(key));
      }
      return running;
    };

    // Onboarding and other directory changes reach the copies in the running user planes.
    const unsubscribeStore = store.subscribe((e) => {
      if (e.plane !== "platform" || e.type === "DELETED") return;
      if (e.resource.plural !== "organizations" && e.resource.plural !== "users") return;
      for (const key of ready.keys()) {
        if (!key.startsWith("user/")) continue;
        const account = SEED_ACCOUNTS.find((a) => a.id === key.slice(5));
        const visible = e.resource.plural === "users"
          ? e.object.metadata.name === account?.id
          : account && tenancy.isMember(account, e.object.metadata.name);
        if (!visible) continue;
        void ready.get(key)!.then(() =>
          cluster.writeStatus(key, e.resource, undefined, e.object.metadata.name, (o) => {
            o.status = structuredClone(e.object.status);
          })
        ).catch((err) => console.error("local stack: directory sync failed:", err));
      }
    });
    cleanups.push(() => unsubscribeStore());
    // Projects created or deleted in an organization's plane update the directory.
    const unsubscribeCluster = cluster.subscribe((e) => {
      if (!e.plane.startsWith("org/") || e.resource.plural !== "projects") return;
      const local = registry.byPlural(e.resource.group, "projects")!;
      const name = e.object.metadata.name;
      const known = store.get(e.plane, local, undefined, name);
      if (e.type === "DELETED") {
        if (known) store.delete(e.plane, local, undefined, name);
      } else if (!known) {
        store.upsert(e.plane, local, copyable(e.object));
      }
    });
    cleanups.push(() => unsubscribeCluster());

    /** The plane key a forwardable request goes to, or undefined (the emulator answers). */
    const forwardTarget = (path: string): { key: string; rest: string } | undefined => {
      const found = splitPlanePath(path);
      if (!found) return undefined;
      const { kind, id, rest } = found;
      // The API server publishes no OpenAPI for custom resources when run alone (its CRD
      // OpenAPI controller needs a static spec it is not given), so /openapi stays here.
      const api = rest.match(/^\/apis\/([^/]+)/);
      if (!api || api[1] === "authentication.k8s.io") return undefined;
      if (kind === "user") {
        return SEED_ACCOUNTS.some((a) => a.id === id) ? { key: userPlane(id), rest } : undefined;
      }
      if (kind === "org") return tenancy.organization(id) ? { key: orgPlane(id), rest } : undefined;
      // A project no organization owns is served too, as an empty plane with no namespaces.
      if (tenancy.organizationOf(id)) tenancy.ensureProjectPlane(id);
      return { key: projectPlane(id), rest };
    };

    /** The front-end checks the stack makes before a write reaches a plane's server. */
    const frontChecks = (req: Request, key: string, rest: string): Response | undefined => {
      if (req.method === "GET") return undefined;
      const m = rest.match(
        /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?(?:\/[^/]+)?$/,
      );
      if (!m) return undefined;
      const [, group, version, namespace, plural, name] = m;
      const type = registry.find(planeKind(key), group, version, plural);
      if (!type) return undefined;
      if (namespace !== undefined && type.namespaced) {
        if (!store.get(key, tenancy.namespaces, undefined, decodeURIComponent(namespace))) {
          return statusResponse(
            new ApiError(
              404,
              "NotFound",
              `namespaces "${decodeURIComponent(namespace)}" not found`,
              {
                name: decodeURIComponent(namespace),
                kind: "namespaces",
              },
            ),
          );
        }
      }
      const applies = req.method === "PATCH" &&
        /apply-patch/.test(req.headers.get("content-type") ?? "");
      const creates = (req.method === "POST" && name === undefined) ||
        (applies && name !== undefined &&
          !cluster.get(
            key,
            type,
            namespace && decodeURIComponent(namespace),
            decodeURIComponent(name),
          ));
      if (
        creates && !key.startsWith("user/") && faults.quotaTimeout > 0 && faults.takeQuotaTimeout()
      ) {
        return statusResponse(
          new ApiError(403, "Forbidden", QUOTA_TIMEOUT_MESSAGE, {
            group: type.group,
            kind: type.plural,
          }),
        );
      }
      return undefined;
    };

    const handle = async (req: Request): Promise<Response> => {
      const url = new URL(req.url);
      const path = url.pathname.replace(/\/+$/, "") || "/";
      if (path === "/_local" || path.startsWith("/_local/")) return await emulator.handle(req);
      if (faults.take503()) return upstreamReset();
      const tooLarge = req.headers.has("authorization")
        ? watchTooLarge(req, url, faults)
        : undefined;
      if (tooLarge) return tooLarge;
      const target = forwardTarget(path);
      if (!target) return await emulator.serveApi(req, url, path);
      if (/^\/apis\/apiextensions\.k8s\.io(\/|$)/.test(target.rest)) return notFoundPage();
      const refused = frontChecks(req, target.key, target.rest);
      if (refused) return refused;
      let base: string;
      try {
        base = await planeUrl(target.key);
      } catch (e) {
        console.error(`local stack: control plane ${target.key} failed to start:`, e);
        return statusResponse(
          new ApiError(503, "ServiceUnavailable", `control plane ${target.key} is not available`),
        );
      }
      const headers = new Headers(req.headers);
      headers.delete("host");
      headers.delete("accept-encoding");
      const upstream = await fetch(`${base}${target.rest}${url.search}`, {
        method: req.method,
        headers,
        body: req.body,
        client: http,
        redirect: "manual",
        signal: AbortSignal.any([req.signal, closing.signal]),
      });
      const out = new Headers(upstream.headers);
      out.delete("content-length");
      return new Response(upstream.body, { status: upstream.status, headers: out });
    };

    const { url, server } = serveLoopback(opts.port, opts.tls, handle);
    cleanups.push(() => server.shutdown());
    return {
      url,
      cluster,
      async kindAdded(type) {
        if (!type.group) return;
        await Promise.all(
          [...ready.keys()].filter((key) => type.planes.includes(planeKind(key))).map(
            async (key) => {
              const base = await ready.get(key)!;
              const server = await servers.get(key, []);
              if (server.url !== base) return;
              await servers.installKind(server.client, type);
              await cluster.addKind(key, type);
            },
          ),
        );
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
