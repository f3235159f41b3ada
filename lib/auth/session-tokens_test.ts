import assert from "node:assert/strict";
import {
  isTransientRefreshError,
  KeyFileTokens,
  loginCommandFor,
  renewCredentials,
  StoredSessionTokens,
} from "./session-tokens.ts";
import { CliError } from "../core/errors.ts";
import { CredentialStore, type StoredCredentials } from "../store/credentials.ts";
import { PRODUCTION, STAGING } from "./endpoints.ts";

Deno.test("the re-login hint names exactly the flags the login needs", () => {
  assert.equal(
    loginCommandFor({
      hostname: "auth.datum.net",
      api_hostname: "api.datum.net",
      client_id: PRODUCTION.clientId,
    }),
    "datumctl login",
  );
  assert.equal(
    loginCommandFor({
      hostname: "auth.staging.env.datum.net",
      api_hostname: "api.staging.env.datum.net",
      client_id: STAGING.clientId,
    }),
    "datumctl login --endpoint https://api.staging.env.datum.net",
  );
  assert.equal(
    loginCommandFor({
      hostname: "127.0.0.1:5556",
      api_hostname: "127.0.0.1:8080",
      client_id: "local",
    }),
    "datumctl login --endpoint http://127.0.0.1:8080 --auth-endpoint http://127.0.0.1:5556 --client-id local",
  );
});

// --- Refresh failures: which ones pass, and what a caller sees meanwhile -------------------------

/** A token endpoint on loopback that answers whatever the test queues (then tokens). */
function tokenEndpoint() {
  const answers: { status: number; body: string; type?: string }[] = [];
  const forms: URLSearchParams[] = [];
  let minted = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    forms.push(new URLSearchParams(await req.text()));
    const next = answers.shift();
    if (next) {
      return new Response(next.body, {
        status: next.status,
        headers: { "content-type": next.type ?? "application/json" },
      });
    }
    minted++;
    return Response.json({
      access_token: `minted-${minted}`,
      token_type: "Bearer",
      refresh_token: `refresh-${minted}`,
      expires_in: 3600,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/oauth/v2/token`,
    answers,
    forms,
    close: () => server.shutdown(),
  };
}

const UPSTREAM_503 = { status: 503, body: "upstream connect error", type: "text/plain" };
const OAUTH = (status: number, error: string) => ({
  status,
  body: JSON.stringify({ error, error_description: error }),
});

function interactive(tokenUrl: string, secondsLeft: number): StoredCredentials {
  return {
    hostname: "127.0.0.1:1",
    api_hostname: "127.0.0.1:2",
    client_id: "cli",
    endpoint_auth_url: "",
    endpoint_token_url: tokenUrl,
    scopes: ["openid"],
    token: {
      access_token: "current",
      token_type: "Bearer",
      refresh_token: "refresh-0",
      expiry: new Date(Date.now() + secondsLeft * 1000).toISOString(),
      expires_in: 3600,
    },
    user_name: "Alice",
    user_email: "alice@example.com",
    subject: "u1",
  };
}

async function rsaPem(): Promise<string> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const b64 = btoa(String.fromCharCode(...der)).replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

Deno.test("a refresh that may pass is retryable (69); a rejected login is permanent (77)", async () => {
  const endpoint = tokenEndpoint();
  try {
    const creds = interactive(endpoint.url, 60);
    for (
      const answer of [
        UPSTREAM_503,
        OAUTH(500, "server_error"),
        OAUTH(400, "temporarily_unavailable"),
      ]
    ) {
      endpoint.answers.push(answer);
      const err = await renewCredentials(creds).then(() => undefined, (e) => e);
      assert.ok(err instanceof CliError, String(err));
      assert.equal(err.exitCode, 69, err.message);
      assert.equal(isTransientRefreshError(err), true);
    }
    endpoint.answers.push(OAUTH(400, "invalid_grant"));
    const lost = await renewCredentials(creds).then(() => undefined, (e) => e);
    assert.equal(lost.code, "SESSION_EXPIRED");
    assert.equal(lost.exitCode, 77);
    assert.equal(isTransientRefreshError(lost), false);
    assert.equal((await renewCredentials(creds)).token.access_token, "minted-1");
  } finally {
    await endpoint.close();
  }
});

Deno.test("a service account signs a new assertion for every exchange; 5xx is retryable", async () => {
  const endpoint = tokenEndpoint();
  try {
    const creds: StoredCredentials = {
      ...interactive(endpoint.url, 60),
      credential_type: "service_account",
      service_account: {
        client_email: "ci@example.com",
        client_id: "sa-1",
        private_key_id: "key-1",
        private_key: await rsaPem(),
        token_uri: endpoint.url,
      },
    };
    endpoint.answers.push(OAUTH(503, "temporarily_unavailable"));
    const busy = await renewCredentials(creds).then(() => undefined, (e) => e);
    assert.equal(busy.exitCode, 69);
    assert.equal(isTransientRefreshError(busy), true);
    endpoint.answers.push(OAUTH(400, "invalid_grant"));
    const rejected = await renewCredentials(creds).then(() => undefined, (e) => e);
    assert.equal(rejected.code, "SERVICE_ACCOUNT_REJECTED");
    assert.equal(isTransientRefreshError(rejected), false);
    await renewCredentials(creds);
    await renewCredentials(creds);
    const assertions = endpoint.forms.map((f) => f.get("assertion"));
    assert.equal(assertions.length, 4);
    assert.equal(new Set(assertions).size, 4, "every exchange carries a fresh assertion");
    assert.ok(endpoint.forms.every((f) => f.get("grant_type")?.endsWith(":jwt-bearer")));
  } finally {
    await endpoint.close();
  }
});

Deno.test("while a refresh fails for now, the still-valid token is served; a forced one throws", async () => {
  const endpoint = tokenEndpoint();
  const home = await Deno.makeTempDir();
  const env = (name: string) =>
    ({ HOME: home, DATUMCTL_CREDENTIALS_STORE: "file" } as Record<string, string>)[name];
  try {
    const store = new CredentialStore({ env });
    const creds = interactive(endpoint.url, 120); // due: inside the 5-minute margin
    await store.putCredentials("alice@127.0.0.1:1", creds);
    const tokens = new StoredSessionTokens("alice@127.0.0.1:1", creds, store, env);
    assert.ok(tokens.refreshDueAt()!.getTime() <= Date.now());

    endpoint.answers.push(UPSTREAM_503);
    assert.equal(await tokens.accessToken(), "current");
    endpoint.answers.push(UPSTREAM_503);
    await assert.rejects(() => tokens.refreshIfDue(), (e: CliError) => e.exitCode === 69);
    endpoint.answers.push(UPSTREAM_503);
    await assert.rejects(() => tokens.accessToken({ forceRefresh: true }));

    assert.equal(await tokens.accessToken(), "minted-1");
    assert.equal(
      (await store.getCredentials("alice@127.0.0.1:1"))?.token.refresh_token,
      "refresh-1",
    );
    assert.ok(tokens.refreshDueAt()!.getTime() > Date.now() + 3000_000);

    // A rejected login is never papered over.
    const expired = new StoredSessionTokens(
      "alice@127.0.0.1:1",
      { ...creds, token: { ...creds.token } },
      store,
      env,
    );
    await store.putCredentials("alice@127.0.0.1:1", creds);
    endpoint.answers.push(OAUTH(400, "invalid_grant"));
    await assert.rejects(() => expired.accessToken(), (e: CliError) => e.exitCode === 77);
  } finally {
    await endpoint.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("key-file tokens are minted first, then renewed when due", async () => {
  let renewals = 0;
  const make = (n: number, seconds: number): StoredCredentials => ({
    ...interactive("http://127.0.0.1:1/token", seconds),
    token: {
      access_token: `t${n}`,
      expiry: new Date(Date.now() + seconds * 1000).toISOString(),
      expires_in: 3600,
    },
  });
  const tokens = new KeyFileTokens(
    () => Promise.resolve(make(0, 10)),
    () => Promise.resolve(make(++renewals, 3600)),
  );
  assert.equal(tokens.refreshDueAt()?.getTime(), 0, "nothing minted yet: due at once");
  assert.equal(await tokens.accessToken(), "t0");
  assert.equal(await tokens.accessToken(), "t1", "10 s left of an hour: renewed");
  assert.equal(await tokens.accessToken(), "t1");
});
