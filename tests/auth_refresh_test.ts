import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { expireStoredToken, loginFlags, storedCredentials } from "./support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

Deno.test("token refresh on a short-lived token", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com", accessTokenTtlSeconds: 3 });
  try {
    const home = await makeHome();
    const login = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
      home,
      env: FILE,
    });
    assert.equal(login.code, 0, login.stderr);

    await t.step("two processes refreshing at once both succeed with one refresh", async () => {
      const before = await storedCredentials(home, stack, "alice@example.com");
      const expiry = Date.parse(String(before.token.expiry));
      await new Promise((r) => setTimeout(r, Math.max(0, expiry - Date.now() + 200)));
      const [a, b] = await Promise.all([
        runCli(["auth", "get-token"], { home, env: FILE }),
        runCli(["auth", "get-token"], { home, env: FILE }),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      // The provider rotates refresh tokens and rejects a reused one, so a second refresh with
      // the same refresh token would have failed; equal tokens mean one refresh was shared.
      assert.equal(a.stdout, b.stdout);
      assert.notEqual(a.stdout, before.token.access_token);
      const after = await storedCredentials(home, stack, "alice@example.com");
      assert.equal(after.token.access_token, a.stdout);
      assert.notEqual(after.token.refresh_token, before.token.refresh_token);
      assert.equal(after.client_id, stack.clientId);
    });

    await t.step("a refresh token the server rejects means: session expired, exit 77", async () => {
      await stack.setFault("revoked-refresh-tokens", true);
      await expireStoredToken(home, stack, "alice@example.com");
      const res = await runCli(["auth", "get-token"], { home, env: FILE });
      assert.equal(res.code, 77, res.stderr);
      assert.match(
        res.stderr,
        /^error: session expired for alice@example\.com; run `datumctl login`$/m,
      );
      assert.match(res.stderr, new RegExp(`datumctl login --endpoint ${stack.api}`));
      assert.equal(res.stdout, "");
      // The login is kept: a later `datumctl login` replaces it.
      assert.ok((await storedCredentials(home, stack, "alice@example.com")).token.refresh_token);
      await stack.setFault("revoked-refresh-tokens", false);
    });
  } finally {
    await stack.stop();
  }
});
