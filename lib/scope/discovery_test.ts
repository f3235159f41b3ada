import assert from "node:assert/strict";
import { applyDiscovery, cacheIsStale, discoverOrganizations } from "./discovery.ts";
import { ALICE, BOB, sampleConfig } from "../../tests/support/scope_fixtures.ts";
import type { AuthContext } from "../auth/token-source.ts";
import { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";

function authFor(apiBase: string): AuthContext {
  return {
    kind: "session",
    identity: { email: "alice@example.com", subject: "u-alice" },
    apiBase,
    sessionName: ALICE,
    tokens: { accessToken: () => Promise.resolve("t"), expiry: () => Promise.resolve(undefined) },
  };
}

const RM = "/apis/resourcemanager.miloapis.com/v1alpha1";

Deno.test("rediscovery replaces only this session's contexts and merges the cache", () => {
  const config = sampleConfig();
  config.contexts.find((c) => c.name === `${ALICE}/acme-corp/infra`)!["x-extra"] = "kept";
  config.cache.projects.find((p) => p.session === ALICE && p.id === "infra")!["x-note"] = "kept";
  config["current-context"] = `${ALICE}/acme-corp/web-app`;
  const now = new Date("2026-07-16T10:00:00.123Z");
  applyDiscovery(config, ALICE, [
    {
      id: "acme-corp",
      displayName: "ACME Corporation",
      projects: [{ id: "infra", displayName: "Infra" }, {
        id: "billing-api",
        displayName: "Billing",
      }],
    },
  ], now);

  const alice = config.contexts.filter((c) => c.session === ALICE).map((c) => c.name).sort();
  assert.deepEqual(alice, [
    `${ALICE}/acme-corp`,
    `${ALICE}/acme-corp/billing-api`,
    `${ALICE}/acme-corp/infra`,
  ]);
  const infra = config.contexts.find((c) => c.name === `${ALICE}/acme-corp/infra`)!;
  assert.equal(infra["x-extra"], "kept");
  assert.equal(infra.namespace, "default");
  assert.equal(infra["organization-id"], "acme-corp");
  assert.ok(config.contexts.some((c) => c.session === BOB), "bob's contexts untouched");
  assert.equal(config["current-context"], undefined, "a vanished current context is cleared");

  const orgs = config.cache.organizations.filter((o) => o.session === ALICE);
  assert.deepEqual(orgs.map((o) => [o.id, o["display-name"]]), [["acme-corp", "ACME Corporation"]]);
  assert.equal(config.cache.organizations.filter((o) => o.session === BOB).length, 1);
  const projects = config.cache.projects.filter((p) => p.session === ALICE);
  assert.deepEqual(projects.map((p) => p.id).sort(), ["billing-api", "infra"]);
  assert.equal(projects.find((p) => p.id === "infra")!["x-note"], "kept");
  assert.equal(config.cache["last-refreshed"], "2026-07-16T10:00:00Z");
  assert.equal(cacheIsStale(config, new Date("2026-07-16T10:59:00Z")), false);
  assert.equal(cacheIsStale(config, new Date("2026-07-16T11:01:00Z")), true);
});

Deno.test("discovery lists projects of every org concurrently and never drops a project", async () => {
  // Each projects request is held until both have arrived: sequential listing would hang.
  let arrived = 0;
  let release!: () => void;
  const bothArrived = new Promise<void>((resolve) => (release = resolve));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (
      path ===
        `/apis/iam.miloapis.com/v1alpha1/users/u-alice/control-plane${RM}/organizationmemberships`
    ) {
      return Response.json({
        items: [
          {
            spec: { organizationRef: { name: "personal" } },
            status: { organization: { displayName: "Personal", type: "Personal" } },
          },
          { spec: { organizationRef: { name: "acme-corp" } }, status: { organization: {} } },
        ],
      });
    }
    const m = path.match(/organizations\/([^/]+)\/control-plane.*\/projects$/);
    if (m) {
      if (++arrived === 2) release();
      await bothArrived;
      if (m[1] === "personal") return Response.json({ items: [] });
      return Response.json({
        items: [
          {
            metadata: { name: "web-app", annotations: { "kubernetes.io/display-name": "Web App" } },
          },
          {
            metadata: { name: "infra", annotations: { "kubernetes.io/description": "Infra team" } },
          },
          { metadata: { name: "bare" } },
        ],
      });
    }
    return new Response("not found", { status: 404 });
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const orgs = await discoverOrganizations(authFor(base));
    assert.deepEqual(orgs, [
      {
        id: "acme-corp",
        displayName: "acme-corp",
        type: undefined,
        projects: [
          { id: "bare", displayName: "bare" },
          { id: "infra", displayName: "Infra team" },
          { id: "web-app", displayName: "Web App" },
        ],
      },
      { id: "personal", displayName: "Personal", type: "Personal", projects: [] },
    ]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a failing project listing aborts discovery", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/organizationmemberships")) {
      return Response.json({ items: [{ spec: { organizationRef: { name: "acme-corp" } } }] });
    }
    return Response.json({ kind: "Status", reason: "Forbidden", message: "no", code: 403 }, {
      status: 403,
    });
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const auth = authFor(base);
    const client = new ApiClient({ auth, baseUrl: base, retry: { attempts: 1 } });
    await assert.rejects(() => discoverOrganizations(auth, { client }), ApiError);
  } finally {
    await server.shutdown();
  }
});
