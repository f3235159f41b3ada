import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { expireStoredToken, hostPort, storedCredentials } from "./support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const SA_EMAIL = "ci-deployer@acme-corp.iam.datumapis.com";

async function userinfo(issuer: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${issuer}/oidc/v1/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return await res.json();
}

Deno.test("CI credentials: DATUM_TOKEN, DATUM_CREDENTIALS and service-account logins", async (t) => {
  const stack = await startStack();
  try {
    const keyFile = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(keyFile, JSON.stringify(await stack.serviceAccountKeyFile()));

    await t.step("DATUM_TOKEN works with no config or keychain, and whoami says so", async () => {
      const tokens = await stack.tokensFor("bob@example.com");
      const home = await makeHome();
      const env = {
        DATUM_TOKEN: tokens.access_token,
        DATUM_ENDPOINT: stack.api,
        DATUM_AUTH_ENDPOINT: stack.issuer,
      };
      const who = await runCli(["whoami", "-o", "json"], { home, env });
      assert.equal(who.code, 0, who.stderr);
      const parsed = JSON.parse(who.stdout);
      assert.equal(parsed.user.email, "bob@example.com");
      assert.equal(parsed.endpoint, stack.api);
      assert.equal(parsed.credentials.source, "DATUM_TOKEN");
      assert.deepEqual(parsed.overrides, ["DATUM_TOKEN"]);
      const human = await runCli(["whoami"], { home, env });
      assert.match(human.stdout, /^Credentials: +DATUM_TOKEN \(from the environment\)$/m);
      assert.match(human.stdout, new RegExp(`^Endpoint: +${hostPort(stack.api)}$`, "m"));
      const token = await runCli(["auth", "get-token"], { home, env });
      assert.equal(token.stdout, tokens.access_token);
      await assert.rejects(() => Deno.stat(`${home}/.datumctl`), Deno.errors.NotFound);
    });

    await t.step(
      "DATUM_CREDENTIALS mints a working token from a key file, storing nothing",
      async () => {
        const home = await makeHome();
        const env = { DATUM_CREDENTIALS: keyFile };
        const token = await runCli(["auth", "get-token"], { home, env });
        assert.equal(token.code, 0, token.stderr);
        const info = await userinfo(stack.issuer, token.stdout);
        assert.equal(info.email, SA_EMAIL);
        const who = await runCli(["whoami"], { home, env });
        assert.equal(who.code, 0, who.stderr);
        assert.match(who.stdout, new RegExp(`^User: +${SA_EMAIL}$`, "m"));
        assert.match(who.stdout, /^Credentials: +service-account key .* \(DATUM_CREDENTIALS\)$/m);
        await assert.rejects(() => Deno.stat(`${home}/.datumctl`), Deno.errors.NotFound);
      },
    );

    await t.step(
      "login --credentials keeps the key in a 0600 file and re-mints on expiry",
      async () => {
        const home = await makeHome();
        const res = await runCli(
          [
            "login",
            "--credentials",
            keyFile,
            "--endpoint",
            stack.api,
            "--auth-endpoint",
            stack.issuer,
          ],
          { home, env: FILE },
        );
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, new RegExp(`Authenticated as ${SA_EMAIL}`));
        const creds = await storedCredentials(home, stack, SA_EMAIL);
        assert.equal(creds.credential_type, "service_account");
        const sa = creds.service_account as Record<string, string>;
        assert.equal(sa.private_key, undefined);
        assert.match(sa.private_key_path, /\/datumctl\/service-accounts\/[0-9a-f]{64}\.pem$/);
        assert.ok(sa.private_key_path.startsWith(`${home}/.config/`));
        assert.equal((await Deno.stat(sa.private_key_path)).mode! & 0o777, 0o600);
        assert.match(await Deno.readTextFile(sa.private_key_path), /BEGIN PRIVATE KEY/);

        await expireStoredToken(home, stack, SA_EMAIL);
        const token = await runCli(["auth", "get-token"], { home, env: FILE });
        assert.equal(token.code, 0, token.stderr);
        assert.notEqual(token.stdout, creds.token.access_token);
        assert.equal((await userinfo(stack.issuer, token.stdout)).email, SA_EMAIL);

        const out = await runCli(["logout"], { home, env: FILE });
        assert.equal(out.code, 0, out.stderr);
        await assert.rejects(() => Deno.stat(sa.private_key_path), Deno.errors.NotFound);
      },
    );
  } finally {
    await stack.stop();
  }
});
