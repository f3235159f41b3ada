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
 * Exports {@link startLocalGateway}, {@link routesFromStore}, {@link LocalGateway} and
 * {@link requestViaGateway} (a visitor's request to a tunnel hostname, for the demo and tests).
 */
import { request } from "node:http";
import type { Gateway, GatewayRoute } from "../lib/tunnel/engine.ts";
import { parseTarget } from "../lib/tunnel/endpoint.ts";
import type { ResourceRegistry, ResourceType } from "./resources.ts";
import type { KubeObject, ObjectStore, StoreEvent } from "./store.ts";

const NET = "networking.datumapis.com";
const WATCHED = new Set(["connectors", "httpproxies", "connectoradvertisements"]);

type Json = Record<string, unknown>;

/** A running local gateway kept in step with the store. */
export interface LocalGateway {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The routes last pushed (for tests and diagnostics). */
  routes(): GatewayRoute[];
  close(): Promise<void>;
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
export function routesFromStore(store: ObjectStore, registry: ResourceRegistry): GatewayRoute[] {
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
      const relay = typeof publicKey?.homeRelay === "string" ? publicKey.homeRelay : null;
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
 * Starts the engine's Gateway on loopback and keeps its routes in step with the store. Throws
 * the engine's `CliError` when the engine is not available on this platform.
 */
export async function startLocalGateway(
  store: ObjectStore,
  registry: ResourceRegistry,
  options: { listen?: string; onError?: (message: string) => void } = {},
): Promise<LocalGateway> {
  const { startGateway } = await import("../lib/tunnel/engine.ts");
  const gateway: Gateway = await startGateway({ listen: options.listen ?? "127.0.0.1:0" });
  let current: GatewayRoute[] = [];
  let pushed = "";
  const sync = () => {
    try {
      const next = routesFromStore(store, registry);
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
    routes: () => current,
    async close() {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
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
