import assert from "node:assert/strict";
import type { GatewayRoute } from "../lib/tunnel/engine.ts";
import { ResolverCache } from "./gateway.ts";

const ID = "ab".repeat(32);

function route(port: number, online = true, relayUrl?: string): GatewayRoute {
  return {
    hostname: "app.datumproxy.localhost",
    endpointId: ID,
    ...(relayUrl ? { relayUrl } : {}),
    directAddresses: [`127.0.0.1:${port}`],
    targetHost: "127.0.0.1",
    targetPort: 8080,
    online,
  };
}

const addresses = (r: { routes: GatewayRoute[] }) => r.routes[0].directAddresses;

Deno.test("a restart on a new port within the TTL keeps the old answer until it expires", () => {
  const cache = new ResolverCache(30_000);
  assert.deepEqual(addresses(cache.apply([route(1000)], 0)), ["127.0.0.1:1000"]);
  // Long after: the listener stops (its route goes offline) and the edge looks it up again.
  assert.deepEqual(addresses(cache.apply([route(1000, false)], 100_000)), ["127.0.0.1:1000"]);
  // It comes back on another port 2 s later: the cached answer stands until 130 s.
  const stale = cache.apply([route(2000)], 102_000);
  assert.deepEqual(addresses(stale), ["127.0.0.1:1000"]);
  assert.equal(stale.staleUntil, 130_000);
  assert.deepEqual(addresses(cache.apply([route(2000)], 129_999)), ["127.0.0.1:1000"]);
  const fresh = cache.apply([route(2000)], 130_000);
  assert.deepEqual(addresses(fresh), ["127.0.0.1:2000"]);
  assert.equal(fresh.staleUntil, undefined);
});

Deno.test("a restart at the same address is served at once", () => {
  const cache = new ResolverCache(30_000);
  cache.apply([route(1000)], 0);
  cache.apply([route(1000, false)], 100_000);
  const back = cache.apply([route(1000)], 101_000);
  assert.deepEqual(addresses(back), ["127.0.0.1:1000"]);
  assert.equal(back.staleUntil, undefined);
  assert.equal(back.routes[0].online, true, "online follows the store at once");
});

Deno.test("a new relay is also held back, and an expired answer follows changes at once", () => {
  const cache = new ResolverCache(30_000);
  cache.apply([route(1000, true, "https://a.example/")], 0);
  const held = cache.apply([route(1000, true, "https://b.example/")], 10_000);
  assert.equal(held.routes[0].relayUrl, "https://a.example/");
  // After the TTL, with no lookup in between, the next change is taken as it comes.
  const later = cache.apply([route(3000, true, "https://b.example/")], 40_000);
  assert.equal(later.routes[0].relayUrl, "https://b.example/");
  assert.deepEqual(addresses(later), ["127.0.0.1:3000"]);
});
