/**
 * The files Go datumctl shares with this one, kept so both read them the same way: an http
 * endpoint's `api_hostname` keeps its scheme (Go adds https:// to a bare host), `auth switch`
 * moves the credential store's `active_user` (Go's `auth get-token` follows it), logout prunes
 * `active_user`, `known_users` and the context cache, and a forced keychain is refused while
 * the file store still holds logins (Go would keep reading the file).
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { assertSucceeded, makeHome, runCli } from "./support/cli.ts";
import { hostPort, loginFlags, readCredentialsFile, storedCredentials } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

Deno.test("files shared with Go datumctl stay consistent", async (t) => {
  const stack: LocalStack = await startStack();
  const home = await makeHome();
  const cli = (args: string[], env: Record<string, string> = FILE) => runCli(args, { home, env });
  const key = (email: string) => `${email}@${hostPort(stack.issuer)}`;
  const store = async () => (await readCredentialsFile(home))["datumctl-auth"] ?? {};
  try {
    await t.step("log in two users on the http stack", async () => {
      for (const email of ["alice@example.com", "bob@example.com"]) {
        await stack.setAutoApprove(email);
        assertSucceeded(await cli(["login", ...loginFlags(stack), "--no-browser"]), email);
      }
      assertSucceeded(await cli(["ctx", "--refresh"]), "ctx --refresh");
    });

    await t.step("api_hostname keeps the http scheme", async () => {
      const alice = await storedCredentials(home, stack, "alice@example.com");
      assert.equal(alice.api_hostname, `http://${hostPort(stack.api)}`);
      // Still read back right by this datumctl: the session works.
      assertSucceeded(await cli(["whoami"]), "whoami");
    });

    await t.step("auth switch moves active_user, so both tools give the same token", async () => {
      assert.equal((await store()).active_user, key("bob@example.com"));
      assertSucceeded(await cli(["auth", "switch", "alice@example.com"]), "auth switch");
      assert.equal((await store()).active_user, key("alice@example.com"));
      const token = await cli(["auth", "get-token"]);
      const alice = await storedCredentials(home, stack, "alice@example.com");
      assert.equal(token.stdout, alice.token.access_token);
    });

    await t.step("logout removes the user from active_user, known_users, the cache", async () => {
      assertSucceeded(await cli(["logout", "alice@example.com"]), "logout");
      const after = await store();
      assert.notEqual(after.active_user, key("alice@example.com"));
      assert.deepEqual(JSON.parse(after.known_users), [key("bob@example.com")]);
      assert.equal(after[key("alice@example.com")], undefined);
      const config = parseYaml(await Deno.readTextFile(`${home}/.datumctl/config`)) as {
        cache: { organizations: { session: string }[]; projects: { session: string }[] };
      };
      const sessions = [...config.cache.organizations, ...config.cache.projects].map((e) =>
        e.session
      );
      assert.ok(sessions.length > 0, "bob's cache entries stay");
      assert.ok(sessions.every((s) => !s.startsWith("alice@")), sessions.join(","));
    });

    await t.step("a forced keychain is refused while credentials.json holds logins", async () => {
      await stack.setAutoApprove("carol@example.com");
      const before = await Deno.readTextFile(`${home}/.datumctl/credentials.json`);
      const res = await cli(["login", ...loginFlags(stack), "--no-browser"], {
        DATUMCTL_CREDENTIALS_STORE: "keychain",
      });
      assert.equal(res.code, 78, res.stderr);
      assert.match(
        res.stderr,
        /DATUMCTL_CREDENTIALS_STORE=keychain, but .*credentials\.json still holds logins/,
      );
      assert.equal(await Deno.readTextFile(`${home}/.datumctl/credentials.json`), before);
      const token = await cli(["auth", "get-token"], { DATUMCTL_CREDENTIALS_STORE: "keychain" });
      assert.equal(token.code, 78, token.stderr);
    });
  } finally {
    await stack.stop();
  }
});
