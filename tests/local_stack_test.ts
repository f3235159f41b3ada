// deno-lint-ignore-file no-explicit-any
/**
 * Drives the local Datum stack over HTTP the way a client would: the OpenID provider (device
 * flow, refresh, service-account JWT bearer) and the control-plane emulator (auth, tenancy,
 * discovery, Kubernetes semantics, watches, controllers, fault switches).
 *
 * One stack serves the whole file (started at load, stopped by the last test).
 */

import assert from "node:assert/strict";
import * as jose from "jose";
import { deviceFlow, startStack, type TokenSet } from "./support/stack.ts";

// The emulator's own behaviour in detail; tests/conformance_test.ts compares it with the real
// API server.
const stack = await startStack({
  leaseDurationSeconds: 2,
  controllerDelayMs: 60,
  apiBackend: "emulator",
});
const tokens = new Map<string, TokenSet>();

async function tokenOf(email: string): Promise<string> {
  if (!tokens.has(email)) tokens.set(email, await stack.tokensFor(email));
  return tokens.get(email)!.access_token;
}

function claims(jwt: string): Record<string, unknown> {
  return jose.decodeJwt(jwt) as Record<string, unknown>;
}

interface CallOptions {
  method?: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  token?: string | null;
}

async function call(path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? await tokenOf("alice@example.com") : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.accept) headers.accept = opts.accept;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = opts.contentType ?? "application/json";
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(`${stack.api}${path}`, { method: opts.method ?? "GET", headers, body });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

async function sub(email: string): Promise<string> {
  return claims(tokens.get(email)?.id_token ?? (await stack.tokensFor(email)).id_token)
    .sub as string;
}

const userCP = (s: string) => `/apis/iam.miloapis.com/v1alpha1/users/${s}/control-plane`;
const orgCP = (o: string) =>
  `/apis/resourcemanager.miloapis.com/v1alpha1/organizations/${o}/control-plane`;
const PCP = "/apis/resourcemanager.miloapis.com/v1alpha1/projects/infra/control-plane";
const NET = `${PCP}/apis/networking.datumapis.com/v1alpha1/namespaces/default`;
const PROXIES = `${PCP}/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies`;
const LEASES = `${PCP}/apis/coordination.k8s.io/v1/namespaces/default/leases`;
const MERGE = "application/merge-patch+json";

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function hexKey(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function createConnector(extra: Record<string, unknown> = {}) {
  const { status, json } = await call(`${NET}/connectors`, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha1",
      kind: "Connector",
      metadata: { generateName: "datum-connect-", ...extra },
      spec: { connectorClassName: "datum-connect" },
    },
  });
  assert.equal(status, 201, JSON.stringify(json));
  return json;
}

async function publishKey(name: string, id: string) {
  const { status, json } = await call(`${NET}/connectors/${name}/status`, {
    method: "PATCH",
    contentType: MERGE,
    body: {
      status: {
        connectionDetails: {
          type: "PublicKey",
          publicKey: {
            id,
            discoveryMode: "DNS",
            homeRelay: "https://relay.example.test",
            addresses: [{ address: "192.0.2.1", port: 4242 }],
          },
        },
      },
    },
  });
  assert.equal(status, 200, JSON.stringify(json));
  return json;
}

function condition(obj: Record<string, any>, type: string) {
  return (obj.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

Deno.test("device flow with plain HTTP yields tokens with sub, email and name", async () => {
  const set = await stack.tokensFor("alice@example.com");
  tokens.set("alice@example.com", set);
  assert.ok(set.access_token && set.refresh_token && set.id_token);
  assert.ok(set.expires_in > 0);
  const idClaims = claims(set.id_token);
  assert.equal(idClaims.email, "alice@example.com");
  assert.equal(idClaims.name, "Alice Example");
  assert.equal(idClaims.aud, stack.clientId);
  assert.equal(idClaims.iss, stack.issuer);
  assert.match(String(idClaims.sub), /^\d+$/, "sub is an opaque numeric id, not the email");
});

Deno.test("device authorization announces a short interval and Zitadel paths", async () => {
  const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(
    discovery.device_authorization_endpoint,
    `${stack.issuer}/oauth/v2/device_authorization`,
  );
  assert.equal(discovery.token_endpoint, `${stack.issuer}/oauth/v2/token`);
  const res = await fetch(discovery.device_authorization_endpoint, {
    method: "POST",
    body: new URLSearchParams({
      client_id: stack.clientId,
      scope: "openid profile email offline_access",
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(body.interval, 1);
  assert.match(body.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
});

Deno.test("without auto-approve a device code stays pending", async () => {
  const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json();
  const grant = await (await fetch(discovery.device_authorization_endpoint, {
    method: "POST",
    body: new URLSearchParams({ client_id: stack.clientId, scope: "openid" }),
  })).json();
  const res = await fetch(discovery.token_endpoint, {
    method: "POST",
    body: new URLSearchParams({
      client_id: stack.clientId,
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: grant.device_code,
    }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, "authorization_pending");
});

Deno.test("the emulator accepts the access token and serves the user", async () => {
  const aliceSub = await sub("alice@example.com");
  const { status, json } = await call(`/apis/iam.miloapis.com/v1alpha1/users/${aliceSub}`);
  assert.equal(status, 200);
  assert.equal(json.metadata.name, aliceSub);
  assert.equal(json.spec.email, "alice@example.com");
  assert.equal(json.spec.givenName, "Alice");
  const other = await call(`/apis/iam.miloapis.com/v1alpha1/users/${await sub("bob@example.com")}`);
  assert.equal(other.status, 403);
});

Deno.test("a bad bearer token gets 401; none at all is the anonymous user's 403", async () => {
  const path = `${PCP}/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors`;
  const bad = await call(path, { token: "not-a-token" });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.kind, "Status");
  assert.equal(bad.json.reason, "Unauthorized");
  assert.equal(bad.json.code, 401);
  const anonymous = await call(path, { token: null });
  assert.equal(anonymous.status, 403);
  assert.equal(anonymous.json.reason, "Forbidden");
  assert.equal(
    anonymous.json.message,
    'connectors.networking.datumapis.com is forbidden: User "system:anonymous" cannot list resource "connectors" in API group "networking.datumapis.com" in the namespace "default"',
  );
});

Deno.test("alice's memberships list acme-corp and personal with their display names", async () => {
  const aliceSub = await sub("alice@example.com");
  const { status, json } = await call(
    `${userCP(aliceSub)}/apis/resourcemanager.miloapis.com/v1alpha1/organizationmemberships`,
  );
  assert.equal(status, 200);
  assert.equal(json.kind, "OrganizationMembershipList");
  const orgs = json.items.map((m: any) => [
    m.spec.organizationRef.name,
    m.status.organization.displayName,
    m.spec.userRef.name,
    m.status.user.email,
  ]).sort();
  assert.deepEqual(orgs, [
    ["acme-corp", "ACME Corp", aliceSub, "alice@example.com"],
    ["personal", "Personal", aliceSub, "alice@example.com"],
  ]);
  assert.ok(json.items.every((m: any) => m.metadata.creationTimestamp));
});

Deno.test("carol has no memberships; another user's control plane is forbidden", async () => {
  const carolSub = await sub("carol@example.com");
  const carolToken = await tokenOf("carol@example.com");
  const mine = await call(
    `${userCP(carolSub)}/apis/resourcemanager.miloapis.com/v1alpha1/organizationmemberships`,
    { token: carolToken },
  );
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.items, []);
  const theirs = await call(
    `${
      userCP(await sub("alice@example.com"))
    }/apis/resourcemanager.miloapis.com/v1alpha1/organizationmemberships`,
    { token: carolToken },
  );
  assert.equal(theirs.status, 403);
});

Deno.test("projects of an org carry their display-name annotation", async () => {
  const acme = await call(
    `${orgCP("acme-corp")}/apis/resourcemanager.miloapis.com/v1alpha1/projects`,
  );
  assert.equal(acme.status, 200);
  assert.deepEqual(
    acme.json.items.map((
      p: any,
    ) => [p.metadata.name, p.metadata.annotations["kubernetes.io/display-name"]]),
    [["billing-api", "Billing API"], ["infra", "Infra"], ["web-app", "Web App"]],
  );
  const personal = await call(
    `${orgCP("personal")}/apis/resourcemanager.miloapis.com/v1alpha1/projects`,
  );
  assert.deepEqual(personal.json.items.map((p: any) => p.metadata.name), ["sandbox"]);
});

Deno.test("a non-member gets 403 on an org and a project (bob → personal)", async () => {
  const bob = await tokenOf("bob@example.com");
  const org = await call(
    `${orgCP("personal")}/apis/resourcemanager.miloapis.com/v1alpha1/projects`,
    { token: bob },
  );
  assert.equal(org.status, 403);
  assert.equal(org.json.reason, "Forbidden");
  const project = await call(
    "/apis/resourcemanager.miloapis.com/v1alpha1/projects/sandbox/control-plane/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors",
    { token: bob },
  );
  assert.equal(project.status, 403);
  const allowed = await call(
    `${orgCP("acme-corp")}/apis/resourcemanager.miloapis.com/v1alpha1/projects`,
    { token: bob },
  );
  assert.equal(allowed.status, 200);
});

Deno.test("organizations carry only Ready, as milo defaults it; the switch sets OnboardingComplete", async () => {
  const path = `${
    userCP(await sub("alice@example.com"))
  }/apis/resourcemanager.miloapis.com/v1alpha1/organizations/acme-corp`;
  const types = (json: any) => (json.status.conditions as { type: string }[]).map((c) => c.type);
  const before = await call(path);
  assert.equal(before.status, 200);
  assert.equal(before.json.metadata.annotations["kubernetes.io/display-name"], "ACME Corp");
  assert.deepEqual(types(before.json), ["Ready"]);
  assert.equal(condition(before.json, "Ready").status, "True");
  await stack.setOnboarding("acme-corp", "BillingAccountMissing");
  const after = await call(path);
  assert.deepEqual(
    [
      condition(after.json, "OnboardingComplete").status,
      condition(after.json, "OnboardingComplete").reason,
    ],
    ["False", "BillingAccountMissing"],
  );
  await stack.setOnboarding("acme-corp", "Ready");
  assert.equal(condition((await call(path)).json, "OnboardingComplete").status, "True");
  await stack.setOnboarding("acme-corp", null);
  assert.deepEqual(types((await call(path)).json), ["Ready"]);
});

Deno.test("discovery lists groups and resources per control plane", async () => {
  const groups = await call(`${PCP}/apis`);
  assert.equal(groups.json.kind, "APIGroupList");
  const net = groups.json.groups.find((g: any) => g.name === "networking.datumapis.com");
  assert.deepEqual(net.versions.map((v: any) => v.version).sort(), ["v1alpha", "v1alpha1"]);
  const list = await call(`${PCP}/apis/networking.datumapis.com/v1alpha1`);
  const connectors = list.json.resources.find((r: any) => r.name === "connectors");
  assert.equal(connectors.kind, "Connector");
  assert.equal(connectors.namespaced, true);
  assert.ok(connectors.verbs.includes("watch"));
  assert.ok(list.json.resources.some((r: any) => r.name === "connectors/status"));
  const classes = list.json.resources.find((r: any) => r.name === "connectorclasses");
  assert.equal(classes.namespaced, false);
  const alpha = await call(`${PCP}/apis/networking.datumapis.com/v1alpha`);
  const tpp = alpha.json.resources.find((r: any) => r.name === "trafficprotectionpolicies");
  assert.deepEqual(tpp.shortNames, ["tpp"]);
  assert.ok(
    alpha.json.resources.some((r: any) => r.name === "httpproxies" && r.kind === "HTTPProxy"),
  );
  const core = await call(`${PCP}/api`);
  assert.deepEqual(core.json.versions, ["v1"]);
  const user = await call(`${userCP(await sub("alice@example.com"))}/apis`);
  assert.ok(user.json.groups.some((g: any) => g.name === "resourcemanager.miloapis.com"));
  assert.ok(!user.json.groups.some((g: any) => g.name === "networking.datumapis.com"));
});

Deno.test("refresh tokens rotate; the revoked-refresh-tokens fault answers invalid_grant", async () => {
  const set = await stack.tokensFor("bob@example.com");
  const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json();
  const refresh = (token: string) =>
    fetch(discovery.token_endpoint, {
      method: "POST",
      body: new URLSearchParams({
        client_id: stack.clientId,
        grant_type: "refresh_token",
        refresh_token: token,
      }),
    });
  const first = await refresh(set.refresh_token);
  const rotated = await first.json();
  assert.equal(first.status, 200);
  assert.notEqual(rotated.refresh_token, set.refresh_token);
  assert.equal(claims(rotated.id_token).email, "bob@example.com");
  await stack.setFault("revoked-refresh-tokens", true);
  const revoked = await refresh(rotated.refresh_token);
  assert.equal(revoked.status, 400);
  assert.equal((await revoked.json()).error, "invalid_grant");
  await stack.setFault("revoked-refresh-tokens", false);
  const again = await refresh(rotated.refresh_token);
  assert.equal(again.status, 200);
  const reused = await refresh(set.refresh_token);
  assert.equal((await reused.json()).error, "invalid_grant", "a rotated refresh token is spent");
  await again.body?.cancel();
});

Deno.test("an expired access token is refused", async () => {
  const short = await startStack({ accessTokenTtlSeconds: 1, apiBackend: "emulator" });
  try {
    const set = await short.tokensFor("alice@example.com");
    const path = `${short.api}/apis/iam.miloapis.com/v1alpha1/users/${claims(set.id_token).sub}`;
    const ok = await fetch(path, { headers: { authorization: `Bearer ${set.access_token}` } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    await new Promise((r) => setTimeout(r, 1100));
    const late = await fetch(path, { headers: { authorization: `Bearer ${set.access_token}` } });
    assert.equal(late.status, 401);
    await late.body?.cancel();
  } finally {
    await short.stop();
  }
});

Deno.test("a service account logs in with a JWT bearer assertion and acts in acme-corp", async () => {
  const key = await stack.serviceAccountKeyFile();
  assert.equal(key.type, "datum_service_account");
  const privateKey = await jose.importPKCS8(key.private_key, "RS256");
  const assertion = await new jose.SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: key.private_key_id, typ: "JWT" })
    .setIssuer(key.client_id)
    .setSubject(key.client_id)
    .setAudience(stack.issuer)
    .setIssuedAt()
    .setExpirationTime("60s")
    .setJti(crypto.randomUUID())
    .sign(privateKey);
  const res = await fetch(`${stack.issuer}/oauth/v2/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion,
      scope: "openid profile email offline_access",
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.refresh_token, undefined);
  const memberships = await call(
    `${userCP(key.client_id)}/apis/resourcemanager.miloapis.com/v1alpha1/organizationmemberships`,
    { token: body.access_token },
  );
  assert.equal(memberships.status, 200);
  assert.deepEqual(memberships.json.items.map((m: any) => m.spec.organizationRef.name), [
    "acme-corp",
  ]);
  assert.equal(memberships.json.items[0].status.user.email, key.client_email);

  const forged = await new jose.SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: key.private_key_id })
    .setIssuer(key.client_id).setSubject(key.client_id).setAudience(stack.issuer)
    .setIssuedAt().setExpirationTime("60s")
    .sign((await jose.generateKeyPair("RS256")).privateKey);
  const refused = await fetch(`${stack.issuer}/oauth/v2/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: forged,
    }),
  });
  assert.equal((await refused.json()).error, "invalid_grant");
});

Deno.test("deviceFlow helper is usable on its own", async () => {
  await stack.setAutoApprove("carol@example.com");
  try {
    const set = await deviceFlow(stack.issuer, stack.clientId);
    assert.equal(claims(set.id_token).email, "carol@example.com");
  } finally {
    await stack.setAutoApprove(undefined);
  }
});

Deno.test("generateName, uid, creationTimestamp; AlreadyExists, NotFound and Invalid Status bodies", async () => {
  const c = await createConnector();
  assert.match(c.metadata.name, /^datum-connect-[a-z0-9]{5}$/);
  assert.ok(c.metadata.uid && c.metadata.creationTimestamp && c.metadata.resourceVersion);
  assert.equal(c.metadata.generation, 1);
  assert.equal(c.metadata.namespace, "default");
  const dup = await call(`${NET}/connectors`, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha1",
      kind: "Connector",
      metadata: { name: c.metadata.name },
      spec: { connectorClassName: "datum-connect" },
    },
  });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.reason, "AlreadyExists");
  const missing = await call(`${NET}/connectors/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual([missing.json.kind, missing.json.reason, missing.json.code], [
    "Status",
    "NotFound",
    404,
  ]);
  const bad = await call(`${NET}/connectors`, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha1",
      kind: "Connector",
      metadata: { name: "Not_Valid" },
      spec: {},
    },
  });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.reason, "Invalid");
  const tooMany = await call(`${NET}/connectors/${c.metadata.name}/status`, {
    method: "PATCH",
    contentType: MERGE,
    body: {
      status: {
        connectionDetails: {
          type: "PublicKey",
          publicKey: {
            id: hexKey(),
            homeRelay: "https://relay.example.test",
            addresses: Array.from({ length: 17 }, (_, i) => ({ address: `192.0.2.${i}`, port: 1 })),
          },
        },
      },
    },
  });
  assert.equal(tooMany.status, 422);
});

Deno.test("a write with a stale resourceVersion gets 409 Conflict", async () => {
  const c = await createConnector();
  const path = `${NET}/connectors/${c.metadata.name}`;
  const first = await call(path, {
    method: "PUT",
    body: { ...c, metadata: { ...c.metadata, labels: { tier: "one" } } },
  });
  assert.equal(first.status, 200);
  assert.notEqual(first.json.metadata.resourceVersion, c.metadata.resourceVersion);
  const stale = await call(path, {
    method: "PUT",
    body: { ...c, metadata: { ...c.metadata, labels: { tier: "two" } } },
  });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.reason, "Conflict");
  assert.match(stale.json.message, /the object has been modified/);
  const stalePatch = await call(path, {
    method: "PATCH",
    contentType: MERGE,
    body: { metadata: { resourceVersion: c.metadata.resourceVersion, labels: { tier: "three" } } },
  });
  assert.equal(stalePatch.status, 409);
  const noRv = await call(path, {
    method: "PUT",
    body: { ...c, metadata: { name: c.metadata.name } },
  });
  assert.equal(noRv.status, 422);
});

Deno.test("metadata.generation moves only with spec changes", async () => {
  const c = await createConnector();
  const path = `${NET}/connectors/${c.metadata.name}`;
  const labelled = await call(path, {
    method: "PATCH",
    contentType: MERGE,
    body: {
      metadata: { labels: { env: "test" }, annotations: { "datum.net/device-name": "box" } },
    },
  });
  assert.equal(labelled.json.metadata.generation, 1);
  const status = await call(`${path}/status`, {
    method: "PATCH",
    contentType: MERGE,
    body: { status: { leaseRef: { name: "x" } }, spec: { connectorClassName: "ignored" } },
  });
  assert.equal(status.json.metadata.generation, 1);
  assert.equal(status.json.spec.connectorClassName, "datum-connect", "spec is ignored on /status");
  const ignoredStatus = await call(path, {
    method: "PATCH",
    contentType: MERGE,
    body: { status: { leaseRef: { name: "changed" } } },
  });
  assert.notEqual(
    ignoredStatus.json.status.leaseRef?.name,
    "changed",
    "status is ignored on the main resource",
  );
  const respec = await call(path, {
    method: "PATCH",
    contentType: MERGE,
    body: { spec: { capabilities: [{ type: "ConnectTCP" }] } },
  });
  assert.equal(respec.json.metadata.generation, 2);
  const jsonPatched = await call(path, {
    method: "PATCH",
    contentType: "application/json-patch+json",
    body: [{ op: "remove", path: "/spec/capabilities" }],
  });
  assert.equal(jsonPatched.json.metadata.generation, 3);
});

Deno.test("field selectors: metadata.name and the CRD selectable fields", async () => {
  const a = await createConnector();
  const b = await createConnector();
  const key = hexKey();
  await publishKey(b.metadata.name, key);
  const byKey = await call(
    `${NET}/connectors?fieldSelector=${
      encodeURIComponent(`status.connectionDetails.publicKey.id=${key}`)
    }`,
  );
  assert.equal(byKey.status, 200);
  assert.deepEqual(byKey.json.items.map((c: any) => c.metadata.name), [b.metadata.name]);
  const byName = await call(`${NET}/connectors?fieldSelector=metadata.name%3D${a.metadata.name}`);
  assert.deepEqual(byName.json.items.map((c: any) => c.metadata.name), [a.metadata.name]);
  const ad = await call(`${NET}/connectoradvertisements`, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha1",
      kind: "ConnectorAdvertisement",
      metadata: { name: `ad-${a.metadata.name}` },
      spec: { connectorRef: { name: a.metadata.name }, layer4: [] },
    },
  });
  assert.equal(ad.status, 201);
  const ads = await call(
    `${NET}/connectoradvertisements?fieldSelector=spec.connectorRef.name%3D${a.metadata.name}`,
  );
  assert.deepEqual(ads.json.items.map((x: any) => x.metadata.name), [`ad-${a.metadata.name}`]);
  const unsupported = await call(`${NET}/connectors?fieldSelector=spec.connectorClassName%3Dx`);
  assert.equal(unsupported.status, 400);
  assert.equal(unsupported.json.reason, "BadRequest");
});

Deno.test("label selectors: =, !=, in, notin, exists, !exists", async () => {
  const run = crypto.randomUUID().slice(0, 8);
  const make = (labels: Record<string, string>) => createConnector({ labels: { run, ...labels } });
  const red = await make({ color: "red" });
  const blue = await make({ color: "blue" });
  const plain = await make({});
  const names = async (selector: string) =>
    (await call(`${NET}/connectors?labelSelector=${encodeURIComponent(`run=${run},${selector}`)}`))
      .json.items.map((c: any) => c.metadata.name).sort();
  const sorted = (...xs: any[]) => xs.map((x) => x.metadata.name).sort();
  assert.deepEqual(await names("color=red"), sorted(red));
  assert.deepEqual(await names("color!=red"), sorted(blue, plain));
  assert.deepEqual(await names("color in (red,blue)"), sorted(red, blue));
  assert.deepEqual(await names("color notin (red)"), sorted(blue, plain));
  assert.deepEqual(await names("color"), sorted(red, blue));
  assert.deepEqual(await names("!color"), sorted(plain));
});

Deno.test("server-side apply creates, is idempotent, prunes, and reports conflicts", async () => {
  const name = `applied-${crypto.randomUUID().slice(0, 6)}`;
  const path = `${LEASES}/${name}?fieldManager=datumctl`;
  const manifest = (labels: string, spec: string[]) =>
    [
      "apiVersion: coordination.k8s.io/v1",
      "kind: Lease",
      "metadata:",
      `  name: ${name}`,
      `  labels: {${labels}}`,
      "spec:",
      ...spec,
    ].join("\n");
  const full = manifest("team: web", ["  holderIdentity: me", "  leaseDurationSeconds: 30"]);
  const apply = (body: string, manager = "datumctl", force = false) =>
    call(`${LEASES}/${name}?fieldManager=${manager}${force ? "&force=true" : ""}`, {
      method: "PATCH",
      contentType: "application/apply-patch+yaml",
      body,
    });
  const created = await apply(full);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.spec.holderIdentity, "me");
  const again = await apply(full);
  assert.equal(again.status, 200);
  assert.equal(again.json.metadata.resourceVersion, created.json.metadata.resourceVersion);
  assert.equal(again.json.metadata.generation, 1);
  const pruned = await apply(manifest("team: web", ["  holderIdentity: me"]));
  assert.equal(
    pruned.json.spec.leaseDurationSeconds,
    undefined,
    "a field no longer applied is removed",
  );
  assert.equal(pruned.json.metadata.generation, 2);
  const other = await apply(manifest("team: ops", ["  holderIdentity: me"]), "someone-else");
  assert.equal(other.status, 409);
  assert.equal(other.json.reason, "Conflict");
  assert.match(other.json.message, /conflict with "datumctl"/);
  const forced = await apply(manifest("team: ops", ["  holderIdentity: me"]), "someone-else", true);
  assert.equal(forced.status, 200);
  assert.equal(forced.json.metadata.labels.team, "ops");
  assert.equal((await call(path.replace(/\?.*/, ""))).json.metadata.labels.team, "ops");
  const dry = await call(`${NET}/connectors?dryRun=All`, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha1",
      kind: "Connector",
      metadata: { name: `${name}-dry` },
      spec: { connectorClassName: "datum-connect" },
    },
  });
  assert.equal(dry.status, 201);
  assert.equal((await call(`${NET}/connectors/${name}-dry`)).status, 404);
});

Deno.test("a watch from a list's resourceVersion sees a status change", async () => {
  const c = await createConnector();
  const list = await call(`${NET}/connectors?fieldSelector=metadata.name%3D${c.metadata.name}`);
  const rv = list.json.metadata.resourceVersion;
  const controller = new AbortController();
  const res = await fetch(
    `${stack.api}${NET}/connectors?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3D${c.metadata.name}`,
    {
      headers: { authorization: `Bearer ${await tokenOf("alice@example.com")}` },
      signal: controller.signal,
    },
  );
  assert.equal(res.status, 200);
  const key = hexKey();
  await publishKey(c.metadata.name, key);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let seen: any;
  try {
    while (!seen) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const event = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (
          event.type === "MODIFIED" &&
          event.object.status?.connectionDetails?.publicKey?.id === key
        ) seen = event;
      }
    }
  } finally {
    await reader.cancel();
    controller.abort();
  }
  assert.equal(seen.object.metadata.name, c.metadata.name);
  assert.ok(Number(seen.object.metadata.resourceVersion) > Number(rv));
});

Deno.test("a watch with sendInitialEvents ends its initial list with a bookmark", async () => {
  const c = await createConnector();
  const controller = new AbortController();
  const res = await fetch(
    `${stack.api}${NET}/connectors?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name%3D${c.metadata.name}`,
    {
      headers: { authorization: `Bearer ${await tokenOf("alice@example.com")}` },
      signal: controller.signal,
    },
  );
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: any[] = [];
  let buffer = "";
  try {
    while (events.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      events.push(...lines.filter(Boolean).map((l) => JSON.parse(l)));
    }
  } finally {
    await reader.cancel();
    controller.abort();
  }
  assert.deepEqual(events.map((e) => e.type), ["ADDED", "BOOKMARK"]);
  assert.equal(events[0].object.metadata.name, c.metadata.name);
  assert.equal(events[1].object.metadata.annotations["k8s.io/initial-events-end"], "true");
});

Deno.test("Connector: Accepted, a Lease with leaseRef, Ready while renewed, not Ready after", async () => {
  const c = await createConnector();
  const name = c.metadata.name;
  const accepted = await until("Accepted + leaseRef", async () => {
    const { json } = await call(`${NET}/connectors/${name}`);
    return condition(json, "Accepted")?.status === "True" && json.status.leaseRef
      ? json
      : undefined;
  });
  assert.equal(accepted.status.leaseRef.name, name);
  assert.equal(condition(accepted, "Ready").status, "False");
  const lease = await call(`${LEASES}/${name}`);
  assert.equal(lease.status, 200);
  assert.equal(lease.json.spec.leaseDurationSeconds, 2);
  assert.equal(lease.json.metadata.ownerReferences[0].uid, c.metadata.uid);

  const renew = await call(`${LEASES}/${name}`, {
    method: "PATCH",
    contentType: MERGE,
    body: { spec: { renewTime: new Date().toISOString().replace("Z", "000Z") } },
  });
  assert.equal(renew.status, 200);
  const ready = await until("Ready", async () => {
    const { json } = await call(`${NET}/connectors/${name}`);
    return condition(json, "Ready")?.status === "True" ? json : undefined;
  });
  assert.equal(condition(ready, "Ready").reason, "ConnectorReady");
  const expired = await until("not Ready", async () => {
    const { json } = await call(`${NET}/connectors/${name}`);
    return condition(json, "Ready")?.status === "False" ? json : undefined;
  });
  assert.equal(condition(expired, "Ready").reason, "ConnectorNotReady");
  assert.equal(
    condition(expired, "Ready").message,
    "Connector lease has expired. Agent may be offline.",
  );
});

Deno.test("IrohDNSPublished: first claimant owns a key, a later one is DeferredToOwner; owner flip", async () => {
  const key = hexKey();
  const first = await createConnector();
  await publishKey(first.metadata.name, key);
  await until("owner", async () => {
    const { json } = await call(`${NET}/connectors/${first.metadata.name}`);
    return condition(json, "IrohDNSPublished")?.reason === "Owner" ? json : undefined;
  });
  const second = await createConnector();
  await publishKey(second.metadata.name, key);
  const deferred = await until("DeferredToOwner", async () => {
    const { json } = await call(`${NET}/connectors/${second.metadata.name}`);
    return condition(json, "IrohDNSPublished")?.reason === "DeferredToOwner" ? json : undefined;
  });
  const cond = condition(deferred, "IrohDNSPublished");
  assert.equal(cond.status, "False");
  assert.equal(
    cond.message,
    `iroh DNS record is owned by Connector infra/default/${first.metadata.name} (uid ${first.metadata.uid})`,
  );

  await stack.setFault("iroh-owner-flip", { project: "infra", name: second.metadata.name });
  await until("flipped owner", async () => {
    const { json } = await call(`${NET}/connectors/${second.metadata.name}`);
    return condition(json, "IrohDNSPublished")?.reason === "Owner" ? json : undefined;
  });
  const demoted = await until("old owner deferred", async () => {
    const { json } = await call(`${NET}/connectors/${first.metadata.name}`);
    return condition(json, "IrohDNSPublished")?.reason === "DeferredToOwner" ? json : undefined;
  });
  assert.match(condition(demoted, "IrohDNSPublished").message, new RegExp(second.metadata.name));
});

Deno.test("HTTPProxy: hostname and conditions with observedGeneration, re-run after a spec change", async () => {
  const c = await createConnector();
  const rules = (port: number) => [{
    matches: [{ path: { type: "PathPrefix", value: "/" } }],
    backends: [{ endpoint: `http://127.0.0.1:${port}`, connector: { name: c.metadata.name } }],
  }];
  const created = await call(PROXIES, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha",
      kind: "HTTPProxy",
      metadata: { generateName: "tunnel-", annotations: { "app.kubernetes.io/name": "web" } },
      spec: { rules: rules(8080) },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const name = created.json.metadata.name;
  assert.match(name, /^tunnel-[a-z0-9]{5}$/);
  const fresh = (obj: any, type: string) => {
    const cnd = condition(obj, type);
    return cnd?.status === "True" && (cnd.observedGeneration ?? 0) >= obj.metadata.generation;
  };
  const types = ["Accepted", "Programmed", "CertificatesReady", "ConnectorMetadataProgrammed"];
  const programmed = await until("programmed", async () => {
    const { json } = await call(`${PROXIES}/${name}`);
    return types.every((t) => fresh(json, t)) ? json : undefined;
  });
  assert.match(programmed.status.hostnames[0], /^[a-z]+-[a-z]+\.datumproxy\.localhost$/);
  assert.equal(condition(programmed, "CertificatesReady").reason, "AllCertificatesReady");
  assert.equal(
    condition(programmed, "ConnectorMetadataProgrammed").reason,
    "ConnectorMetadataApplied",
  );

  const changed = await call(`${PROXIES}/${name}`, {
    method: "PATCH",
    contentType: MERGE,
    body: { spec: { hostnames: [], rules: rules(9090) } },
  });
  assert.equal(changed.json.metadata.generation, 2);
  assert.ok(!fresh(changed.json, "Programmed"), "Programmed is stale right after a spec change");
  const caughtUp = await until("observedGeneration 2", async () => {
    const { json } = await call(`${PROXIES}/${name}`);
    return types.every((t) => fresh(json, t)) ? json : undefined;
  });
  assert.equal(condition(caughtUp, "Programmed").observedGeneration, 2);
  assert.equal(caughtUp.status.hostnames[0], programmed.status.hostnames[0], "hostname is stable");

  const table = await call(PROXIES, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" });
  assert.equal(table.json.kind, "Table");
  assert.deepEqual(
    table.json.columnDefinitions.map((d: any) => d.name),
    ["Name", "Hostname", "Programmed", "Certificates", "Age"],
  );
  const row = table.json.rows.find((r: any) => r.cells[0] === name);
  assert.deepEqual(row.cells.slice(1, 4), [programmed.status.hostnames[0], "True", "True"]);
});

Deno.test("ConnectorAdvertisement: Accepted, or ConnectorNotFound without its connector", async () => {
  const c = await createConnector();
  const make = (name: string, connector: string) =>
    call(`${NET}/connectoradvertisements`, {
      method: "POST",
      body: {
        apiVersion: "networking.datumapis.com/v1alpha1",
        kind: "ConnectorAdvertisement",
        metadata: { name },
        spec: {
          connectorRef: { name: connector },
          layer4: [{
            name: "default",
            services: [{
              address: "127.0.0.1",
              ports: [{ name: "tcp-8080", port: 8080, protocol: "TCP" }],
            }],
          }],
        },
      },
    });
  const suffix = crypto.randomUUID().slice(0, 6);
  await make(`good-${suffix}`, c.metadata.name);
  await make(`orphan-${suffix}`, "missing-connector");
  const good = await until("accepted", async () => {
    const { json } = await call(`${NET}/connectoradvertisements/good-${suffix}`);
    return condition(json, "Accepted")?.status === "True" ? json : undefined;
  });
  assert.equal(condition(good, "Accepted").reason, "Accepted");
  const orphan = await until("not found", async () => {
    const { json } = await call(`${NET}/connectoradvertisements/orphan-${suffix}`);
    return condition(json, "Accepted")?.reason === "ConnectorNotFound" ? json : undefined;
  });
  assert.equal(condition(orphan, "Accepted").status, "False");
});

Deno.test("fault: a burst of front-end 503s, then normal answers", async () => {
  await stack.setFault("api-503", 2);
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${stack.api}${NET}/connectors`, {
      headers: { authorization: `Bearer ${await tokenOf("alice@example.com")}` },
    });
    assert.equal(res.status, 503);
    assert.equal(
      await res.text(),
      "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    );
  }
  assert.equal((await call(`${NET}/connectors`)).status, 200);
});

Deno.test("fault: quota-check timeouts on create", async () => {
  await stack.setFault("quota-timeout", 1);
  const body = {
    apiVersion: "networking.datumapis.com/v1alpha1",
    kind: "Connector",
    metadata: { generateName: "quota-" },
    spec: { connectorClassName: "datum-connect" },
  };
  const refused = await call(`${NET}/connectors`, { method: "POST", body });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.kind, "Status");
  assert.match(refused.json.message, /took too long to be checked against your quota/);
  const reads = await call(`${NET}/connectors`);
  assert.equal(reads.status, 200, "reads are not affected");
  const retried = await call(`${NET}/connectors`, { method: "POST", body });
  assert.equal(retried.status, 201);
});

Deno.test("fault: a deleted Lease makes the connector not Ready until it is recreated", async () => {
  const c = await createConnector();
  const name = c.metadata.name;
  await until(
    "lease",
    async () => (await call(`${LEASES}/${name}`)).status === 200 ? true : undefined,
  );
  await call(`${LEASES}/${name}`, {
    method: "PATCH",
    contentType: MERGE,
    body: { spec: { renewTime: new Date().toISOString() } },
  });
  await until("Ready", async () => {
    const { json } = await call(`${NET}/connectors/${name}`);
    return condition(json, "Ready")?.status === "True" ? true : undefined;
  });
  await stack.setFault("delete-lease", { project: "infra", name, recreateAfterMs: 400 });
  assert.equal((await call(`${LEASES}/${name}`)).status, 404);
  const notReady = await until("not Ready", async () => {
    const { json } = await call(`${NET}/connectors/${name}`);
    return condition(json, "Ready")?.status === "False" ? json : undefined;
  });
  assert.equal(condition(notReady, "Ready").reason, "ConnectorNotReady");
  const recreated = await until("lease back", async () => {
    const res = await call(`${LEASES}/${name}`);
    return res.status === 200 ? res.json : undefined;
  });
  assert.equal(recreated.spec.renewTime, undefined);
});

Deno.test("OpenAPI v3 index and a group-version document with the kind's schema", async () => {
  const index = await call(`${PCP}/openapi/v3`);
  const entry = index.json.paths["apis/networking.datumapis.com/v1alpha1"];
  // Like Datum's server: relative to the control plane, not the server root.
  assert.ok(
    entry.serverRelativeURL.startsWith(`/openapi/v3/apis/networking.datumapis.com/v1alpha1?hash=`),
  );
  const doc = await call(`${PCP}${entry.serverRelativeURL}`);
  const schema = doc.json.components.schemas["com.datumapis.networking.v1alpha1.Connector"];
  assert.deepEqual(schema["x-kubernetes-group-version-kind"], [
    { group: "networking.datumapis.com", version: "v1alpha1", kind: "Connector" },
  ]);
  assert.ok(schema.properties.spec);
});

/** A scripted browser: follows redirects by hand with a cookie jar and submits forms. */
class Browser {
  #jar = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<{ url: string; res: Response }> {
    let current = url;
    let res = await this.#fetch(current, init);
    while (res.status >= 300 && res.status < 400) {
      current = new URL(res.headers.get("location")!, current).toString();
      await res.body?.cancel();
      if (!current.startsWith(stack.issuer)) return { url: current, res };
      res = await this.#fetch(current);
    }
    return { url: current, res };
  }
  async #fetch(url: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set("cookie", [...this.#jar.values()].join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      this.#jar.set(pair.split("=")[0], pair);
    }
    return res;
  }
  /** Submits the page's first form with its hidden inputs plus `fields`. */
  async submit(page: { url: string; res: Response }, fields: Record<string, string> = {}) {
    const html = await page.res.text();
    const form = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
    assert.ok(form, `no form on ${page.url}: ${html.slice(0, 300)}`);
    const body = new URLSearchParams();
    for (const input of form[2].matchAll(/<input[^>]*>/g)) {
      const name = input[0].match(/name="([^"]+)"/)?.[1];
      if (name) body.set(name, input[0].match(/value="([^"]*)"/)?.[1] ?? "");
    }
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return await this.go(new URL(form[1], page.url).toString(), {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
  }
}

async function pkce() {
  const verifier = jose.base64url.encode(crypto.getRandomValues(new Uint8Array(64)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: jose.base64url.encode(new Uint8Array(digest)) };
}

Deno.test("browser login: auth code + PKCE on any loopback port, auto-approved", async () => {
  await stack.setAutoApprove("bob@example.com");
  try {
    const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`))
      .json();
    for (
      const redirect of [
        "http://127.0.0.1:49152/datumctl/auth/callback",
        "http://localhost:61234/datumctl/auth/callback",
      ]
    ) {
      const { verifier, challenge } = await pkce();
      const auth = new URL(discovery.authorization_endpoint);
      auth.search = new URLSearchParams({
        client_id: stack.clientId,
        response_type: "code",
        scope: "openid profile email offline_access",
        redirect_uri: redirect,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "s1",
        prompt: "select_account",
      }).toString();
      const landed = await new Browser().go(auth.toString());
      assert.ok(landed.url.startsWith(redirect), landed.url);
      const back = new URL(landed.url);
      assert.equal(back.searchParams.get("state"), "s1");
      const res = await fetch(discovery.token_endpoint, {
        method: "POST",
        body: new URLSearchParams({
          client_id: stack.clientId,
          grant_type: "authorization_code",
          code: back.searchParams.get("code")!,
          redirect_uri: redirect,
          code_verifier: verifier,
        }),
      });
      const set = await res.json();
      assert.equal(res.status, 200, JSON.stringify(set));
      assert.ok(set.refresh_token, "offline_access yields a refresh token");
      assert.equal(claims(set.id_token).email, "bob@example.com");
    }
  } finally {
    await stack.setAutoApprove(undefined);
  }
});

Deno.test("without auto-approve the provider's own pages complete a device login by email", async () => {
  const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json();
  const grant = await (await fetch(discovery.device_authorization_endpoint, {
    method: "POST",
    body: new URLSearchParams({
      client_id: stack.clientId,
      scope: "openid profile email offline_access",
    }),
  })).json();
  const browser = new Browser();
  let page = await browser.go(grant.verification_uri_complete);
  page = await browser.submit(page); // the auto-submitting code form
  page = await browser.submit(page); // confirm the code
  page = await browser.submit(page, { login: "carol@example.com", password: "anything" });
  page = await browser.submit(page); // consent
  assert.match(await page.res.text(), /successful/);
  const res = await fetch(discovery.token_endpoint, {
    method: "POST",
    body: new URLSearchParams({
      client_id: stack.clientId,
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: grant.device_code,
    }),
  });
  const set = await res.json();
  assert.equal(res.status, 200, JSON.stringify(set));
  assert.equal(claims(set.id_token).email, "carol@example.com");
  assert.equal(claims(set.id_token).sub, await sub("carol@example.com"));
  const user = await call(`/apis/iam.miloapis.com/v1alpha1/users/${claims(set.id_token).sub}`, {
    token: set.access_token,
  });
  assert.equal(user.status, 200);
});

Deno.test("deno task local prints one JSON line and exits 0 on SIGINT and SIGTERM", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../local/main.ts", import.meta.url).pathname,
        "--controller-delay-ms",
        "10",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream());
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const info = JSON.parse(out.trim());
    assert.deepEqual(Object.keys(info), [
      "issuer",
      "api",
      "gateway",
      "gatewayEndpointId",
      "clientId",
      "apiBackend",
      "ca",
    ]);
    assert.equal(info.ca, null);
    child.kill(signal);
    const [status, rest, err] = await Promise.all([
      child.status,
      (async () => {
        let more = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return more;
          more += value;
        }
      })(),
      Array.fromAsync(stderr).then((parts) => parts.join("")),
    ]);
    assert.equal(status.code, 0);
    assert.equal(rest, "", "nothing else on stdout");
    assert.match(
      err,
      new RegExp(
        `datumctl login --endpoint ${info.api} --auth-endpoint ${info.issuer} --client-id ${info.clientId} --no-browser`,
      ),
    );
    await assert.rejects(fetch(`${info.issuer}/.well-known/openid-configuration`));
  }
});

Deno.test("a project created in an org gets its own control plane for members only", async () => {
  const name = `new-${crypto.randomUUID().slice(0, 6)}`;
  const created = await call(
    `${orgCP("acme-corp")}/apis/resourcemanager.miloapis.com/v1alpha1/projects`,
    {
      method: "POST",
      body: {
        apiVersion: "resourcemanager.miloapis.com/v1alpha1",
        kind: "Project",
        metadata: { name, annotations: { "kubernetes.io/display-name": "New" } },
        spec: { ownerRef: { kind: "Organization", name: "acme-corp" } },
      },
    },
  );
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const pcp = `/apis/resourcemanager.miloapis.com/v1alpha1/projects/${name}/control-plane`;
  const classes = await call(`${pcp}/apis/networking.datumapis.com/v1alpha1/connectorclasses`, {
    token: await tokenOf("bob@example.com"),
  });
  assert.equal(classes.status, 200);
  assert.deepEqual(classes.json.items.map((c: any) => c.metadata.name), ["datum-connect"]);
  const carol = await call(`${pcp}/apis/networking.datumapis.com/v1alpha1/connectorclasses`, {
    token: await tokenOf("carol@example.com"),
  });
  assert.equal(carol.status, 403);
  const ready = await until("project Ready", async () => {
    const { json } = await call(
      `${orgCP("acme-corp")}/apis/resourcemanager.miloapis.com/v1alpha1/projects/${name}`,
    );
    return condition(json, "Ready")?.status === "True" ? json : undefined;
  });
  assert.equal(ready.metadata.name, name);
});

Deno.test("TrafficProtectionPolicy gets ancestor conditions; delete removes objects", async () => {
  const tpps =
    `${PCP}/apis/networking.datumapis.com/v1alpha/namespaces/default/trafficprotectionpolicies`;
  const name = `tpp-${crypto.randomUUID().slice(0, 6)}`;
  const created = await call(tpps, {
    method: "POST",
    body: {
      apiVersion: "networking.datumapis.com/v1alpha",
      kind: "TrafficProtectionPolicy",
      metadata: { name },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name }],
        mode: "Enforce",
        ruleSets: [{
          type: "OWASPCoreRuleSet",
          owaspCoreRuleSet: { paranoiaLevels: { blocking: 1, detection: 1 } },
        }],
      },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const accepted = await until("ancestors", async () => {
    const { json } = await call(`${tpps}/${name}`);
    return json.status?.ancestors?.[0]?.conditions?.length ? json : undefined;
  });
  assert.deepEqual(accepted.status.ancestors[0].conditions.map((c: any) => [c.type, c.status]), [
    ["Accepted", "True"],
    ["Programmed", "True"],
  ]);
  const deleted = await call(`${tpps}/${name}`, { method: "DELETE" });
  assert.equal(deleted.status, 200);
  assert.equal((await call(`${tpps}/${name}`)).status, 404);
});

Deno.test("a kind registered at runtime gets discovery and CRUD", async () => {
  await stack.registerKind({
    group: "example.datumapis.com",
    version: "v1",
    kind: "Widget",
    shortNames: ["wd"],
    statusSubresource: true,
    printerColumns: [{ name: "Size", type: "integer", jsonPath: ".spec.size" }],
  });
  const gv = `${PCP}/apis/example.datumapis.com/v1`;
  const list = await call(gv);
  assert.deepEqual(list.json.resources.map((r: any) => r.name), ["widgets", "widgets/status"]);
  const made = await call(`${gv}/namespaces/default/widgets`, {
    method: "POST",
    body: {
      apiVersion: "example.datumapis.com/v1",
      kind: "Widget",
      metadata: { name: "w1" },
      spec: { size: 3 },
    },
  });
  assert.equal(made.status, 201);
  assert.equal(made.json.kind, "Widget");
  const table = await call(`${gv}/namespaces/default/widgets`, {
    accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
  });
  assert.deepEqual(table.json.rows[0].cells.slice(0, 2), ["w1", 3]);
});

Deno.test({
  name: "stop() ends the stack process",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await stack.stop();
    await assert.rejects(fetch(`${stack.api}/version`));
  },
});
