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

const stack = await startStack({ leaseDurationSeconds: 2, controllerDelayMs: 60 });
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

Deno.test("requests without a valid bearer token get a 401 Status", async () => {
  for (const token of [null, "not-a-token"]) {
    const { status, json } = await call(
      `${PCP}/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors`,
      { token },
    );
    assert.equal(status, 401);
    assert.equal(json.kind, "Status");
    assert.equal(json.reason, "Unauthorized");
    assert.equal(json.code, 401);
  }
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

Deno.test("organizations on the user control plane carry OnboardingComplete; the switch changes it", async () => {
  const path = `${
    userCP(await sub("alice@example.com"))
  }/apis/resourcemanager.miloapis.com/v1alpha1/organizations/acme-corp`;
  const before = await call(path);
  assert.equal(before.status, 200);
  assert.equal(before.json.metadata.annotations["kubernetes.io/display-name"], "ACME Corp");
  assert.deepEqual(
    [
      condition(before.json, "OnboardingComplete").status,
      condition(before.json, "OnboardingComplete").reason,
    ],
    ["True", "Ready"],
  );
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
  const short = await startStack({ accessTokenTtlSeconds: 1 });
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

Deno.test({
  name: "stop() ends the stack process",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await stack.stop();
    await assert.rejects(fetch(`${stack.api}/version`));
  },
});
