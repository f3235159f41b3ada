/**
 * The local stack's stand-in for Datum's edge: the tunnel engine's Gateway (an HTTP listener on
 * loopback that routes by `Host` over iroh), fed from the emulator's store the way Datum's
 * operators feed Envoy.
 *
 * For every HTTPProxy with `status.hostnames`, each hostname routes to the Connector its backend
 * names: the Connector's `status.connectionDetails.publicKey` gives the endpoint id, the direct
 * addresses and the home relay; the backend endpoint gives the target. A route is online while
 * the Connector is `Ready` and the tunnel's ConnectorAdvertisement exists (the tunnel is
 * enabled); otherwise the gateway answers `503 Tunnel not online`.
 *
 * Visitors reach a tunnel with `curl -H 'Host: <hostname>' <gateway>/`; `datumctl tunnel
 * listen` does the same for its public-URL check when `DATUMCTL_TUNNEL_GATEWAY=<gateway>`.
 *
 * By default a Connector's new address is used at once. With a DNS TTL (`dnsTtlSeconds`, the
 * stack's `dnsTtlSeconds` setting) the gateway behaves like Datum's edge, which finds agents
 * through an iroh DNS record with a 30 s TTL: see {@link ResolverCache}.
 *
 * The gateway has a stable iroh identity (see {@link localGatewaySecretKey}), so its endpoint
 * id is the same on every run and can be given to `tunnel listen --allow-peer`.
 *
 * It also carries a visitor's request to a tunnel hostname, for the demo and tests.
 */
import { request } from "node:http";
import type { Gateway, GatewayRoute } from "../lib/tunnel/engine.ts";
import { parseTarget } from "../lib/tunnel/endpoint.ts";
import { NO_HOME_RELAY } from "../lib/tunnel/details.ts";
import type { ResourceRegistry, ResourceType } from "./resources.ts";
import type { ControlPlaneView } from "./cluster.ts";
import type { KubeObject, StoreEvent } from "./store.ts";

const NET = "networking.datumapis.com";
const WATCHED = new Set(["connectors", "httpproxies", "connectoradvertisements"]);

type Json = Record<string, unknown>;

/** A running local gateway kept in step with the store. */
export interface LocalGateway {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The gateway's iroh endpoint id (64 hex): what agents see as their peer. */
  readonly endpointId: string;
  /** The routes last pushed (for tests and diagnostics). */
  routes(): GatewayRoute[];
  /** The emulated iroh DNS TTL in seconds (0: addresses follow the Connectors at once). */
  readonly dnsTtlSeconds: number;
  /** Changes the emulated TTL; answers cached so far are dropped. */
  setDnsTtl(seconds: number): void;
  close(): Promise<void>;
}

/** What a resolver answers for an endpoint id: where the agent is. */
interface Answer {
  relayUrl?: string;
  directAddresses: string[];
}

interface Cached {
  answer: Answer;
  expiresAt: number;
  /** Whether any route of the endpoint was online at the last look. */
  online: boolean;
}

function sameAnswer(a: Answer, b: Answer): boolean {
  return a.relayUrl === b.relayUrl &&
    JSON.stringify(a.directAddresses) === JSON.stringify(b.directAddresses);
}

/**
 * The edge's resolver cache, per endpoint id: an answer, once looked up, is used until its TTL
 * ends even when the Connector's status has changed since. The edge looks an agent up when it
 * first routes to it, when it loses it (its routes go offline: a stopped listener; the record
 * then still holds the old address) or comes back, and when it needs it after the cached answer
 * expired. So a restart within the TTL onto a new port or relay waits for the old answer to
 * expire (up to the TTL), while a restart at the same address is served at once.
 */
export class ResolverCache {
  readonly #cache = new Map<string, Cached>();

  constructor(readonly ttlMs: number) {}

  /**
   * The routes with each endpoint's cached answer in place of the store's, and when the next
   * cached answer that differs from the store's expires (undefined: nothing is stale).
   */
  apply(routes: GatewayRoute[], now: number): { routes: GatewayRoute[]; staleUntil?: number } {
    const current = new Map<string, { answer: Answer; online: boolean }>();
    for (const r of routes) {
      const seen = current.get(r.endpointId);
      if (seen) {
        seen.online ||= r.online;
        continue;
      }
      current.set(r.endpointId, {
        answer: { relayUrl: r.relayUrl ?? undefined, directAddresses: r.directAddresses },
        online: r.online,
      });
    }
    let staleUntil: number | undefined;
    for (const [id, { answer, online }] of current) {
      const cached = this.#cache.get(id);
      const expired = !cached || now >= cached.expiresAt;
      const lookup = !cached || cached.online !== online || !sameAnswer(cached.answer, answer);
      if (expired && lookup) {
        this.#cache.set(id, { answer, expiresAt: now + this.ttlMs, online });
        continue;
      }
      cached!.online = online;
      if (!sameAnswer(cached!.answer, answer)) {
        staleUntil = Math.min(staleUntil ?? Infinity, cached!.expiresAt);
      }
    }
    for (const [id, cached] of this.#cache) {
      if (!current.has(id) && now >= cached.expiresAt) this.#cache.delete(id);
    }
    const out = routes.map((r) => {
      const { answer } = this.#cache.get(r.endpointId)!;
      const { relayUrl: _old, ...rest } = r;
      return {
        ...rest,
        ...(answer.relayUrl ? { relayUrl: answer.relayUrl } : {}),
        directAddresses: answer.directAddresses,
      };
    });
    return { routes: out, staleUntil };
  }
}

function types(registry: ResourceRegistry) {
  const need = (group: string, plural: string): ResourceType => {
    const t = registry.byPlural(group, plural);
    if (!t) throw new Error(`kind ${plural}.${group} is not registered`);
    return t;
  };
  return {
    connectors: need(NET, "connectors"),
    proxies: need(NET, "httpproxies"),
    advertisements: need(NET, "connectoradvertisements"),
  };
}

function isReady(obj: KubeObject | undefined, type: string): boolean {
  const conditions = ((obj?.status as Json | undefined)?.conditions ?? []) as Json[];
  return conditions.some((c) => c.type === type && c.status === "True");
}

function socketAddress(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The gateway routes the store describes right now (all project control planes). */
export function routesFromStore(
  store: ControlPlaneView,
  registry: ResourceRegistry,
): GatewayRoute[] {
  const t = types(registry);
  const routes: GatewayRoute[] = [];
  const seen = new Set<string>();
  for (const plane of store.planesWith(t.proxies)) {
    for (const proxy of store.list(plane, t.proxies)) {
      if (proxy.metadata.deletionTimestamp) continue;
      const hostnames = ((proxy.status as Json | undefined)?.hostnames ?? []) as string[];
      if (hostnames.length === 0) continue;
      const rules = ((proxy.spec as Json | undefined)?.rules ?? []) as Json[];
      const backend = (rules.find((r) => ((r.backends as Json[] | undefined)?.length ?? 0) > 0)
        ?.backends as Json[] | undefined)?.[0];
      const endpoint = typeof backend?.endpoint === "string" ? backend.endpoint : undefined;
      const connectorName = (backend?.connector as Json | undefined)?.name;
      if (!endpoint || typeof connectorName !== "string") continue;
      let target: { host: string; port: number };
      try {
        target = parseTarget(endpoint);
      } catch {
        continue;
      }
      const namespace = proxy.metadata.namespace;
      const connector = store.get(plane, t.connectors, namespace, connectorName);
      const publicKey = ((connector?.status as Json | undefined)?.connectionDetails as
        | Json
        | undefined)?.publicKey as Json | undefined;
      const id = typeof publicKey?.id === "string" ? publicKey.id : undefined;
      if (!id || !/^[0-9a-f]{64}$/.test(id)) continue;
      const addresses = ((publicKey?.addresses ?? []) as Json[])
        .filter((a) => typeof a.address === "string" && typeof a.port === "number")
        .map((a) => socketAddress(a.address as string, a.port as number));
      // A direct-only agent names a placeholder relay (the schema requires one): no relay.
      const relay =
        typeof publicKey?.homeRelay === "string" && publicKey.homeRelay !== NO_HOME_RELAY
          ? publicKey.homeRelay
          : null;
      const advertised = !!store.get(plane, t.advertisements, namespace, proxy.metadata.name);
      const online = isReady(connector, "Ready") && advertised &&
        (addresses.length > 0 || relay !== null);
      for (const hostname of hostnames) {
        const key = hostname.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        routes.push({
          hostname,
          endpointId: id,
          // Omitted rather than null: the native binding takes a string or nothing.
          ...(relay ? { relayUrl: relay } : {}),
          directAddresses: addresses,
          targetHost: target.host,
          targetPort: target.port,
          online,
        });
      }
    }
  }
  return routes;
}

/**
 * The local gateway's fixed secret key: SHA-256 of a constant label, so every run (and every
 * machine) has the same gateway endpoint id. It is public by design, a stand-in for an edge
 * identity on a development machine; nothing real should ever trust it.
 */
export async function localGatewaySecretKey(): Promise<Uint8Array> {
  const label = new TextEncoder().encode("datumctl local stack gateway identity v1");
  return new Uint8Array(await crypto.subtle.digest("SHA-256", label));
}

/**
 * Starts the engine's Gateway on loopback and keeps its routes in step with the store. Throws
 * the engine's `CliError` when the engine is not available on this platform.
 */
export async function startLocalGateway(
  store: ControlPlaneView,
  registry: ResourceRegistry,
  options: {
    listen?: string;
    onError?: (message: string) => void;
    /** Emulate the edge's iroh DNS TTL (seconds; default 0 = off). */
    dnsTtlSeconds?: number;
    /** The gateway's secret key; default {@link localGatewaySecretKey}. */
    secretKey?: Uint8Array;
  } = {},
): Promise<LocalGateway> {
  const { startGateway } = await import("../lib/tunnel/engine.ts");
  const gateway: Gateway = await startGateway({
    listen: options.listen ?? "127.0.0.1:0",
    secretKey: options.secretKey ?? await localGatewaySecretKey(),
  });
  let current: GatewayRoute[] = [];
  let pushed = "";
  let resolver: ResolverCache | undefined;
  let expiry: ReturnType<typeof setTimeout> | undefined;
  const setDnsTtl = (seconds: number) => {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError("dnsTtlSeconds must be a non-negative number");
    }
    resolver = seconds > 0 ? new ResolverCache(seconds * 1000) : undefined;
  };
  setDnsTtl(options.dnsTtlSeconds ?? 0);
  const sync = () => {
    try {
      let next = routesFromStore(store, registry);
      if (resolver) {
        const now = Date.now();
        const cached = resolver.apply(next, now);
        next = cached.routes;
        if (expiry !== undefined) clearTimeout(expiry);
        expiry = undefined;
        if (cached.staleUntil !== undefined) {
          // Look again when the stale answer expires, as the edge's next lookup would.
          expiry = setTimeout(() => {
            expiry = undefined;
            sync();
          }, Math.max(0, cached.staleUntil - now) + 5);
        }
      }
      const signature = JSON.stringify(next);
      if (signature === pushed) return;
      gateway.setRoutes(next);
      pushed = signature;
      current = next;
    } catch (err) {
      options.onError?.(`local gateway: ${(err as Error).message}`);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = store.subscribe((event: StoreEvent) => {
    if (event.resource.group !== NET || !WATCHED.has(event.resource.plural)) return;
    // Coalesce the bursts a reconcile produces into one route push.
    if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        sync();
      }, 10);
    }
  });
  sync();
  return {
    url: gateway.url,
    endpointId: gateway.endpointId,
    routes: () => current,
    get dnsTtlSeconds() {
      return resolver ? resolver.ttlMs / 1000 : 0;
    },
    setDnsTtl(seconds) {
      setDnsTtl(seconds);
      sync();
    },
    async close() {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      if (expiry !== undefined) clearTimeout(expiry);
      await gateway.close();
    },
  };
}

/** What a visitor got back through the gateway. */
export interface GatewayAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * GETs `path` of tunnel `hostname` the way a visitor's browser reaches it through the edge:
 * connects to the local gateway and sends the hostname as `Host`.
 */
export function requestViaGateway(
  gateway: string,
  hostname: string,
  path = "/",
  options: { method?: string; timeoutMs?: number } = {},
): Promise<GatewayAnswer> {
  const url = new URL(gateway);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
      path,
      method: options.method ?? "GET",
      headers: { host: hostname },
      timeout: options.timeoutMs ?? 15_000,
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("the gateway did not answer in time")));
    req.on("error", reject);
    req.end();
  });
}
