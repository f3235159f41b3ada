/**
 * The emulator against the real Kubernetes API server: the same raw requests go to a stack on
 * each backend, and status, content type and body shape must agree, for the verbs datumctl uses
 * and the places where the emulator was once found to differ from Datum's server (discovery,
 * OpenAPI, list/get/watch with and without resourceVersion, Table, server-side apply create,
 * update and conflict, merge and strategic patches, delete, 401/403/404/409/415/422). Where
 * matching is not worth it, {@link KNOWN} names the difference and why.
 */
import assert from "node:assert/strict";
import { type LocalStack, startStack } from "./support/stack.ts";

const ALICE = "340118051620640717";
const PCP = "/apis/resourcemanager.miloapis.com/v1alpha1/projects/infra/control-plane";
const NET = `${PCP}/apis/networking.datumapis.com/v1alpha1`;
const CONNECTORS = `${NET}/namespaces/default/connectors`;
const PROXIES = `${PCP}/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies`;
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io";
const USER_PLANE = (id: string) => `/apis/iam.miloapis.com/v1alpha1/users/${id}/control-plane`;
const MEMBERSHIPS = "/apis/resourcemanager.miloapis.com/v1alpha1/organizationmemberships";
/** Connectors of a project no organization owns: Datum serves it as an empty plane. */
const GHOST_CONNECTORS =
  "/apis/resourcemanager.miloapis.com/v1alpha1/projects/ghost-project/control-plane/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";

/** One request of the comparison. */
interface Probe {
  name: string;
  method?: string;
  path: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** `none`: no Authorization header; `bad`: a token the provider never issued. */
  auth?: "none" | "bad";
  /** Read a watch stream for this long, then compare its first events. */
  watchMs?: number;
}

const connector = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "networking.datumapis.com/v1alpha1",
  kind: "Connector",
  metadata: { name, labels },
  spec: { connectorClassName: "datum-connect" },
});

const proxy = (name: string, backends: number) => ({
  apiVersion: "networking.datumapis.com/v1alpha",
  kind: "HTTPProxy",
  metadata: { name },
  spec: {
    rules: [{
      backends: Array.from({ length: backends }, (_, i) => ({
        endpoint: `http://127.0.0.1:${8080 + i}`,
      })),
    }],
  },
});

const APPLY = "application/apply-patch+yaml";
const PROBES: Probe[] = [
  { name: "root discovery /apis", path: `${PCP}/apis` },
  { name: "core discovery /api", path: `${PCP}/api` },
  { name: "core group /api/v1", path: `${PCP}/api/v1` },
  { name: "group discovery", path: `${PCP}/apis/networking.datumapis.com` },
  { name: "group-version discovery", path: NET },
  { name: "openapi index", path: `${PCP}/openapi/v3` },
  {
    name: "openapi group-version",
    path: `${PCP}/openapi/v3/apis/networking.datumapis.com/v1alpha1`,
  },
  {
    name: "user plane memberships",
    path:
      `/apis/iam.miloapis.com/v1alpha1/users/${ALICE}/control-plane/apis/resourcemanager.miloapis.com/v1alpha1/organizationmemberships`,
  },
  {
    name: "org plane projects",
    path:
      "/apis/resourcemanager.miloapis.com/v1alpha1/organizations/acme-corp/control-plane/apis/resourcemanager.miloapis.com/v1alpha1/projects",
  },
  {
    name: "unknown organization",
    path:
      "/apis/resourcemanager.miloapis.com/v1alpha1/organizations/ghost-org/control-plane/apis/resourcemanager.miloapis.com/v1alpha1/projects",
  },
  { name: "empty user id", path: `${USER_PLANE("")}${MEMBERSHIPS}` },
  { name: "malformed user id (400)", path: `${USER_PLANE("a@b")}${MEMBERSHIPS}` },
  { name: "unknown project, list", path: GHOST_CONNECTORS },
  {
    name: "unknown project, create",
    method: "POST",
    path: GHOST_CONNECTORS,
    body: connector("c1"),
  },
  { name: "namespaces", path: `${PCP}/api/v1/namespaces` },
  { name: "list, empty", path: CONNECTORS },
  {
    name: "SSA create",
    method: "PATCH",
    path: `${CONNECTORS}/c1?fieldManager=datumctl`,
    body: connector("c1", { team: "a" }),
    contentType: APPLY,
  },
  {
    name: "SSA same manifest again",
    method: "PATCH",
    path: `${CONNECTORS}/c1?fieldManager=datumctl`,
    body: connector("c1", { team: "a" }),
    contentType: APPLY,
  },
  {
    name: "SSA update",
    method: "PATCH",
    path: `${CONNECTORS}/c1?fieldManager=datumctl`,
    body: connector("c1", { team: "b" }),
    contentType: APPLY,
  },
  {
    name: "SSA conflict",
    method: "PATCH",
    path: `${CONNECTORS}/c1?fieldManager=other`,
    body: connector("c1", { team: "c" }),
    contentType: APPLY,
  },
  {
    name: "SSA forced",
    method: "PATCH",
    path: `${CONNECTORS}/c1?fieldManager=other&force=true`,
    body: connector("c1", { team: "c" }),
    contentType: APPLY,
  },
  {
    name: "SSA without fieldManager (422)",
    method: "PATCH",
    path: `${CONNECTORS}/c1`,
    body: connector("c1"),
    contentType: APPLY,
  },
  {
    name: "merge patch",
    method: "PATCH",
    path: `${CONNECTORS}/c1`,
    body: { metadata: { labels: { extra: "x" } } },
    contentType: "application/merge-patch+json",
  },
  {
    name: "strategic merge patch (415)",
    method: "PATCH",
    path: `${CONNECTORS}/c1`,
    body: { metadata: { labels: { extra: "y" } } },
    contentType: "application/strategic-merge-patch+json",
  },
  { name: "get", path: `${CONNECTORS}/c1` },
  { name: "get as Table", path: `${CONNECTORS}/c1`, accept: TABLE },
  { name: "list", path: CONNECTORS },
  { name: "list with resourceVersion=0", path: `${CONNECTORS}?resourceVersion=0` },
  { name: "list as Table", path: CONNECTORS, accept: TABLE },
  { name: "list with limit", path: `${CONNECTORS}?limit=1` },
  {
    name: "watch without resourceVersion",
    path: `${CONNECTORS}?watch=1&timeoutSeconds=2`,
    watchMs: 600,
  },
  {
    name: "watch from resourceVersion=0",
    path: `${CONNECTORS}?watch=1&resourceVersion=0&timeoutSeconds=2`,
    watchMs: 600,
  },
  { name: "create existing (409)", method: "POST", path: CONNECTORS, body: connector("c1") },
  {
    name: "create without kind (400)",
    method: "POST",
    path: CONNECTORS,
    body: { metadata: { name: "x" } },
  },
  { name: "create valid proxy", method: "POST", path: PROXIES, body: proxy("p1", 1) },
  { name: "create invalid proxy (422)", method: "POST", path: PROXIES, body: proxy("p2", 2) },
  { name: "get missing (404)", path: `${CONNECTORS}/nope` },
  { name: "unknown group (404)", path: `${PCP}/apis/nope.example.com/v1/things` },
  { name: "unknown resource (404)", path: `${NET}/nothings` },
  { name: "no credentials (403)", path: CONNECTORS, auth: "none" },
  { name: "bad token (401)", path: CONNECTORS, auth: "bad" },
  { name: "delete", method: "DELETE", path: `${CONNECTORS}/c1` },
  { name: "delete missing (404)", method: "DELETE", path: `${CONNECTORS}/c1` },
  {
    name: "self subject review",
    method: "POST",
    path: `${PCP}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  },
];

/**
 * Differences kept on purpose, by probe name: what differs and why matching is not worth it.
 * The comparison skips exactly the named part and still compares the rest.
 */
const KNOWN: Record<string, { part: "body" | "contentType"; why: string }> = {
  "openapi index": {
    part: "body",
    why:
      "the real server also lists apiextensions.k8s.io and version; the router serves the index itself since the API server alone publishes no OpenAPI for CRDs",
  },
};

interface Observed {
  status: number;
  contentType: string;
  shape: unknown;
  body: unknown;
}

/** The parts of a body that must agree: kinds, keys, Status reasons, counts; no values. */
function shape(body: unknown): unknown {
  if (typeof body === "string") return body.trim();
  if (!body || typeof body !== "object") return typeof body;
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.events)) {
    return {
      events: (b.events as Record<string, unknown>[]).map((
        e,
      ) => [e.type, (e.object as Record<string, unknown>)?.kind]),
    };
  }
  const out: Record<string, unknown> = { kind: b.kind, keys: Object.keys(b).sort() };
  if (b.kind === "Status") {
    const details = (b.details ?? {}) as Record<string, unknown>;
    out.status = b.status;
    out.reason = b.reason;
    out.code = b.code;
    out.details = Object.keys(details).sort();
    out.causes = ((details.causes ?? []) as Record<string, unknown>[]).map((
      c,
    ) => [c.reason, c.field]);
  }
  if (Array.isArray(b.items)) {
    out.items = b.items.length;
    out.metadata = Object.keys((b.metadata ?? {}) as object).sort();
  }
  if (b.kind === "Table") {
    out.columns = (b.columnDefinitions as Record<string, unknown>[]).map((c) => [c.name, c.type]);
    out.rows = (b.rows as unknown[]).length;
  }
  if (b.kind === "APIResourceList") {
    out.resources = (b.resources as Record<string, unknown>[]).map((
      r,
    ) => [r.name, [...(r.verbs as string[])].sort().join(",")]).sort();
  }
  if (b.kind === "APIGroupList") {
    out.groups = (b.groups as Record<string, unknown>[]).map((g) => g.name).sort();
  }
  if (b.kind === "APIGroup") out.versions = b.versions;
  if (b.metadata && !Array.isArray(b.items) && b.kind !== "Status") {
    out.labels = (b.metadata as Record<string, unknown>).labels;
  }
  return out;
}

async function observe(stack: LocalStack, token: string, probe: Probe): Promise<Observed> {
  const headers: Record<string, string> = { accept: probe.accept ?? "application/json" };
  if (probe.auth === "bad") headers.authorization = "Bearer not-a-token";
  else if (probe.auth !== "none") headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (probe.body !== undefined) {
    headers["content-type"] = probe.contentType ?? "application/json";
    body = JSON.stringify(probe.body);
  }
  const controller = new AbortController();
  const res = await fetch(`${stack.api}${probe.path}`, {
    method: probe.method ?? "GET",
    headers,
    body,
    signal: controller.signal,
  });
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  let text = "";
  if (probe.watchMs) {
    const timer = setTimeout(() => controller.abort(), probe.watchMs);
    try {
      for await (const chunk of res.body!) text += new TextDecoder().decode(chunk);
    } catch {
      // the read was cut short on purpose
    }
    clearTimeout(timer);
    const events = text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    return { status: res.status, contentType, shape: shape({ events }), body: events };
  }
  text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text bodies (404 page not found) compare as text
  }
  return { status: res.status, contentType, shape: shape(parsed), body: parsed };
}

Deno.test("the emulator and the real API server answer the same requests alike", async (t) => {
  const emulator = await startStack({ apiBackend: "emulator", controllerDelayMs: 100000 });
  const kube = await startStack({ apiBackend: "kube", controllerDelayMs: 100000 });
  try {
    const tokens = {
      emulator: (await emulator.tokensFor("alice@example.com")).access_token,
      kube: (await kube.tokensFor("alice@example.com")).access_token,
    };
    const seen: Record<string, { emulator: Observed; kube: Observed }> = {};
    for (const probe of PROBES) {
      await t.step(probe.name, async () => {
        const [e, k] = [
          await observe(emulator, tokens.emulator, probe),
          await observe(kube, tokens.kube, probe),
        ];
        seen[probe.name] = { emulator: e, kube: k };
        const known = KNOWN[probe.name];
        const detail = `\nemulator: ${JSON.stringify(e.body).slice(0, 1500)}\nkube:     ${
          JSON.stringify(k.body).slice(0, 1500)
        }`;
        assert.equal(e.status, k.status, `status${detail}`);
        if (known?.part !== "contentType") {
          assert.equal(e.contentType, k.contentType, `content type${detail}`);
        }
        if (known?.part !== "body") assert.deepEqual(e.shape, k.shape, `body shape${detail}`);
      });
    }
    await t.step("odd user ids and unknown projects answer as Datum's server does", () => {
      for (const side of ["emulator", "kube"] as const) {
        const body = (name: string) => seen[name][side].body as Record<string, unknown>;
        assert.equal(seen["empty user id"][side].status, 200);
        assert.deepEqual(body("empty user id").items, []);
        assert.equal(body("malformed user id (400)").message, 'invalid user ID "a@b"');
        assert.equal(seen["unknown project, list"][side].status, 200);
        assert.deepEqual(body("unknown project, list").items, []);
        assert.equal(seen["unknown project, create"][side].status, 404);
        assert.equal(body("unknown project, create").message, 'namespaces "default" not found');
        assert.equal(seen["unknown organization"][side].status, 404);
        assert.match(
          String(body("unknown organization").message),
          /^organizations\.resourcemanager\.miloapis\.com "ghost-org" not found$/,
        );
      }
    });
    await t.step("a multi-field conflict names every field on both", () => {
      // Both say how many conflicts there are and list them one per line.
      for (const side of ["emulator", "kube"] as const) {
        const body = seen["SSA conflict"][side].body as {
          message: string;
          details: { causes: { reason: string }[] };
        };
        assert.match(body.message, /^Apply failed with \d+ conflicts?: conflicts? with "datumctl"/);
        assert.ok(body.details.causes.length >= 1);
        assert.ok(body.details.causes.every((c) => c.reason === "FieldManagerConflict"));
      }
    });
  } finally {
    await Promise.all([emulator.stop(), kube.stop()]);
  }
});
