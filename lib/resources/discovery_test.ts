import assert from "node:assert/strict";
import {
  Discovery,
  editDistance,
  resolveTypeIn,
  type ResourceType,
  suggestType,
} from "./discovery.ts";
import { ApiClient } from "../api/client.ts";
import { CliError } from "../core/errors.ts";

function type(
  partial: Partial<ResourceType> & Pick<ResourceType, "plural" | "kind">,
): ResourceType {
  return {
    group: "networking.datumapis.com",
    version: "v1alpha1",
    singular: partial.kind.toLowerCase(),
    namespaced: true,
    shortNames: [],
    verbs: ["get", "list"],
    categories: [],
    preferred: true,
    ...partial,
  };
}

const TYPES: ResourceType[] = [
  type({ plural: "connectors", kind: "Connector" }),
  type({ plural: "httpproxies", kind: "HTTPProxy", version: "v1alpha" }),
  type({
    plural: "trafficprotectionpolicies",
    kind: "TrafficProtectionPolicy",
    shortNames: ["tpp"],
  }),
  type({
    plural: "projects",
    kind: "Project",
    group: "resourcemanager.miloapis.com",
    namespaced: false,
  }),
  type({ plural: "namespaces", kind: "Namespace", group: "", version: "v1", shortNames: ["ns"] }),
  type({ plural: "leases", kind: "Lease", group: "coordination.k8s.io", version: "v1" }),
];

Deno.test("resolveTypeIn: plural, singular, short name, kind and qualified forms", () => {
  const plural = (input: string) => resolveTypeIn(TYPES, input).plural;
  assert.equal(plural("connectors"), "connectors");
  assert.equal(plural("connector"), "connectors");
  assert.equal(plural("Connector"), "connectors");
  assert.equal(plural("HTTPProxy"), "httpproxies");
  assert.equal(plural("tpp"), "trafficprotectionpolicies");
  assert.equal(plural("ns"), "namespaces");
  assert.equal(plural("connectors.networking.datumapis.com"), "connectors");
  assert.equal(plural("connector.networking"), "connectors");
  assert.equal(plural("httpproxies.v1alpha.networking.datumapis.com"), "httpproxies");
  assert.equal(plural("networking.datumapis.com/v1alpha/httpproxies"), "httpproxies");
  assert.equal(plural("v1/namespaces"), "namespaces");
  assert.throws(() => resolveTypeIn(TYPES, "connectors.coordination"), CliError);
});

Deno.test("resolveTypeIn: a typo names the closest type", () => {
  try {
    resolveTypeIn(TYPES, "conectors");
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof CliError);
    assert.equal(err.code, "UNKNOWN_RESOURCE_TYPE");
    assert.equal(err.message, 'the server doesn\'t have a resource type "conectors"');
    assert.match(err.hint!, /Did you mean "connectors"\?/);
  }
  assert.equal(suggestType(TYPES, "httpproxis"), "httpproxies");
  assert.equal(suggestType(TYPES, "zzzzzz"), undefined);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("Discovery: cached on disk for the TTL, refetched on a miss and when stale", async () => {
  let hits = 0;
  let served: string[] = ["connectors"];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/cp/api") return Response.json({ versions: ["v1"] });
    if (path === "/cp/api/v1") return Response.json({ resources: [] });
    if (path === "/cp/apis") {
      hits++;
      return Response.json({
        groups: [{
          name: "networking.datumapis.com",
          versions: [{ groupVersion: "networking.datumapis.com/v1alpha1", version: "v1alpha1" }],
          preferredVersion: {
            groupVersion: "networking.datumapis.com/v1alpha1",
            version: "v1alpha1",
          },
        }],
      });
    }
    if (path === "/cp/apis/networking.datumapis.com/v1alpha1") {
      return Response.json({
        resources: served.map((name) => ({
          name,
          singularName: name.replace(/s$/, ""),
          namespaced: true,
          kind: name === "connectors" ? "Connector" : "Widget",
          verbs: ["get", "list"],
        })).concat([{
          name: "connectors/status",
          singularName: "",
          namespaced: true,
          kind: "Connector",
          verbs: ["get"],
        }]),
      });
    }
    return new Response("{}", { status: 404 });
  });
  const cache = await Deno.makeTempDir();
  const env = (
    name: string,
  ) => (name === "XDG_CACHE_HOME" ? cache : name === "HOME" ? cache : undefined);
  const client = new ApiClient({
    auth: {
      kind: "DATUM_TOKEN",
      identity: { email: "a@example.com", subject: "1" },
      apiBase: `http://127.0.0.1:${server.addr.port}`,
      tokens: { accessToken: () => Promise.resolve("t"), expiry: () => Promise.resolve(undefined) },
    },
    baseUrl: `http://127.0.0.1:${server.addr.port}/cp`,
  });
  try {
    let now = Date.now();
    const fresh = () => new Discovery(client, { env, now: () => now });
    assert.equal((await fresh().resolve("connector")).plural, "connectors");
    assert.equal(hits, 1);
    // A new process within the TTL reads the cache; subresources are not types.
    const doc = await fresh().document();
    assert.equal(hits, 1);
    assert.deepEqual(doc.resources.map((r) => r.plural), ["connectors"]);

    // A type added on the server: a miss refetches once.
    served = ["connectors", "widgets"];
    assert.equal((await fresh().resolve("widgets")).kind, "Widget");
    assert.equal(hits, 2);

    // Past the TTL the document is fetched again.
    now += 7 * 60 * 60 * 1000;
    await fresh().document();
    assert.equal(hits, 3);
  } finally {
    await server.shutdown();
    await Deno.remove(cache, { recursive: true });
  }
});
