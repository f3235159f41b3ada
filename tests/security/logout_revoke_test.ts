/**
 * Logout revokes: `logout` and `logout --all` revoke each refresh token at the provider's
 * revocation endpoint (RFC 7009, from discovery) before forgetting it, so a copy of the token
 * stops working; a provider that cannot be reached is a warning, and the secret goes anyway.
 */
import assert from "node:assert/strict";
import { makeHome, runCli } from "../support/cli.ts";
import { type LocalStack, startStack } from "../support/stack.ts";
import { loginFlags, readCredentialsFile, storedCredentials } from "../support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

async function login(stack: LocalStack, home: string, email: string): Promise<string> {
  await stack.setAutoApprove(email);
  const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], { home, env: FILE });
  assert.equal(res.code, 0, res.stderr);
  const token = (await storedCredentials(home, stack, email)).token.refresh_token;
  assert.equal(typeof token, "string");
  return token as string;
}

/** What the provider's token endpoint answers to a refresh with `refreshToken`. */
async function refreshWith(stack: LocalStack, refreshToken: string) {
  const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json();
  const res = await fetch(discovery.token_endpoint, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: stack.clientId,
    }),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("logout revokes the refresh token at the provider before forgetting it", async (t) => {
  const stack = await startStack();
  try {
    const discovery = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`))
      .json();
    assert.ok(discovery.revocation_endpoint, "the local provider announces revocation");

    await t.step("logout: the copied refresh token no longer refreshes", async () => {
      const home = await makeHome();
      const copy = await login(stack, home, "alice@example.com");
      const res = await runCli(["logout"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /warning/);
      const after = await refreshWith(stack, copy);
      assert.equal(after.status, 400, JSON.stringify(after.body));
      assert.equal(after.body.error, "invalid_grant");
    });

    await t.step("logout --all revokes every login", async () => {
      const home = await makeHome();
      const alice = await login(stack, home, "alice@example.com");
      const bob = await login(stack, home, "bob@example.com");
      const res = await runCli(["logout", "--all"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /warning/);
      for (const copy of [alice, bob]) {
        const after = await refreshWith(stack, copy);
        assert.equal(after.body.error, "invalid_grant", JSON.stringify(after.body));
      }
      assert.deepEqual(await readCredentialsFile(home), {});
    });

    await t.step("a token that was not logged out still refreshes (control)", async () => {
      const home = await makeHome();
      const copy = await login(stack, home, "alice@example.com");
      const after = await refreshWith(stack, copy);
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.equal(typeof after.body.access_token, "string");
    });
  } finally {
    await stack.stop();
  }
});

Deno.test("a provider that cannot be reached: logout warns and forgets the secret anyway", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  let refreshToken: string;
  try {
    refreshToken = await login(stack, home, "alice@example.com");
  } finally {
    await stack.stop();
  }
  const res = await runCli(["logout"], { home, env: FILE });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /Logged out alice@example\.com/);
  assert.match(res.stderr, /^warning: could not revoke the login at http:\/\/127\.0\.0\.1:\d+: /m);
  assert.match(res.stderr, /stays valid until it expires/);
  assert.ok(!res.stderr.includes(refreshToken), "the warning never shows the token");
  assert.deepEqual(await readCredentialsFile(home), {});
});
