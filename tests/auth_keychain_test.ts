/**
 * The keychain path, against a real Secret Service (this file runs inside
 * scripts/with-secret-service.sh: a private D-Bus session with an unlocked gnome-keyring).
 */
import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { hostPort, loginFlags } from "./support/auth.ts";

async function secretTool(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string }> {
  const child = new Deno.Command("secret-tool", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

const lookup = (key: string) => secretTool(["lookup", "service", "datumctl-auth", "username", key]);

Deno.test("logins live in the OS keychain when there is one", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const aliceKey = `alice@example.com@${hostPort(stack.issuer)}`;
  try {
    const home = await makeHome();

    await t.step("login stores datumctl's entries in the Secret Service, no file", async () => {
      const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], { home });
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /warning/);
      await assert.rejects(
        () => Deno.stat(`${home}/.datumctl/credentials.json`),
        Deno.errors.NotFound,
      );
      const entry = await lookup(aliceKey);
      assert.equal(entry.code, 0);
      const creds = JSON.parse(entry.stdout);
      assert.equal(creds.user_email, "alice@example.com");
      assert.ok(creds.token.refresh_token);
      assert.equal("id_token" in creds.token, false);
      assert.equal((await lookup("active_user")).stdout, aliceKey);
      assert.ok(JSON.parse((await lookup("known_users")).stdout).includes(aliceKey));
    });

    await t.step("whoami, auth list and get-token read it from the keychain", async () => {
      const who = await runCli(["whoami"], { home });
      assert.match(who.stdout, /^Credentials: +keychain$/m);
      const list = await runCli(["auth", "list"], { home });
      assert.match(list.stdout, /^alice@example\.com +Active +keychain$/m);
      const token = await runCli(["auth", "get-token"], { home });
      assert.equal(token.code, 0, token.stderr);
      assert.equal(token.stdout, JSON.parse((await lookup(aliceKey)).stdout).token.access_token);
    });

    await t.step("a login written by Go datumctl is read as is", async () => {
      const tokens = await stack.tokensFor("bob@example.com");
      const bobKey = `bob@example.com@${hostPort(stack.issuer)}`;
      const goBlob = {
        hostname: hostPort(stack.issuer),
        api_hostname: hostPort(stack.api),
        client_id: stack.clientId,
        endpoint_auth_url: `${stack.issuer}/oauth/v2/authorize`,
        endpoint_token_url: `${stack.issuer}/oauth/v2/token`,
        scopes: ["openid", "profile", "email", "offline_access"],
        token: {
          access_token: tokens.access_token,
          token_type: "Bearer",
          refresh_token: tokens.refresh_token,
          expiry: new Date(Date.now() + 3_000_000).toISOString().replace("Z", "123456+00:00"),
          expires_in: 3600,
        },
        user_name: "Bob Example",
        user_email: "bob@example.com",
        subject: "bob",
      };
      const stored = await secretTool(
        ["store", "--label=datumctl", "service", "datumctl-auth", "username", bobKey],
        JSON.stringify(goBlob),
      );
      assert.equal(stored.code, 0);
      const session = `bob@example.com@${hostPort(stack.api)}`;
      const config = await Deno.readTextFile(`${home}/.datumctl/config`);
      await Deno.writeTextFile(
        `${home}/.datumctl/config`,
        config.replace(
          /^sessions:\n/m,
          `sessions:\n- name: ${session}\n  user-key: ${bobKey}\n  user-email: bob@example.com\n  user-name: Bob Example\n  endpoint:\n    server: ${stack.api}\n    auth-hostname: ${
            hostPort(stack.issuer)
          }\n`,
        ),
      );
      const token = await runCli(["auth", "get-token", "--session", session], { home });
      assert.equal(token.code, 0, token.stderr);
      assert.equal(token.stdout, tokens.access_token);
    });

    await t.step("logout deletes the keychain entries", async () => {
      const res = await runCli(["logout", "--all"], { home });
      assert.equal(res.code, 0, res.stderr);
      assert.notEqual((await lookup(aliceKey)).code, 0);
      assert.notEqual((await lookup("active_user")).code, 0);
      assert.notEqual((await lookup("known_users")).code, 0);
    });

    await t.step("DATUMCTL_CREDENTIALS_STORE=file skips the keychain", async () => {
      const fileHome = await makeHome();
      const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
        home: fileHome,
        env: { DATUMCTL_CREDENTIALS_STORE: "file" },
      });
      assert.equal(res.code, 0, res.stderr);
      await Deno.stat(`${fileHome}/.datumctl/credentials.json`);
      assert.notEqual((await lookup(aliceKey)).code, 0);
    });
  } finally {
    await stack.stop();
  }
});
