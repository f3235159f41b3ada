import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import {
  hostPort,
  loginFlags,
  readCredentialsFile,
  scriptedBrowser,
  storedCredentials,
} from "./support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

Deno.test("login end to end on the local stack, file store", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    const home = await makeHome();
    const api = hostPort(stack.api);

    await t.step(
      "device login stores a datumctl-compatible login and discovers contexts",
      async () => {
        const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
          home,
          env: FILE,
        });
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stderr, /\/ui\/v2\/login\/device\?user_code=/);
        assert.match(res.stderr, /code: [A-Z]{4}-[A-Z]{4}/);
        assert.match(res.stdout, /Authenticated as Alice Example \(alice@example\.com\)/);
        assert.match(res.stdout, /You have access to 2 organizations/);
        const creds = await storedCredentials(home, stack, "alice@example.com");
        assert.equal(creds.user_email, "alice@example.com");
        assert.equal(creds.client_id, stack.clientId);
        assert.equal(creds.hostname, hostPort(stack.issuer));
        // Go datumctl adds https:// to a bare host, so a plain-http server keeps its scheme.
        assert.equal(creds.api_hostname, `http://${api}`);
        assert.match(String(creds.endpoint_token_url), /\/oauth\/v2\/token$/);
        assert.ok(creds.token.refresh_token);
        assert.equal("id_token" in creds.token, false);
        const file = await readCredentialsFile(home);
        assert.equal(
          file["datumctl-auth"].active_user,
          `alice@example.com@${hostPort(stack.issuer)}`,
        );
        const config = await Deno.readTextFile(`${home}/.datumctl/config`);
        assert.match(config, new RegExp(`name: alice@example.com@${api}`));
        assert.match(config, new RegExp(`active-session: alice@example.com@${api}`));
        assert.match(config, /apiVersion: datumctl.config.datum.net\/v1beta1/);
      },
    );

    await t.step("whoami shows the user, context (none yet) and storage", async () => {
      const res = await runCli(["whoami"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^User: +Alice Example \(alice@example\.com\)$/m);
      assert.match(res.stdout, /^Context: +\(none\)/m);
      assert.match(res.stdout, /^Credentials: +file \(.*credentials\.json\)$/m);
      // The local stack is not production, so whoami says which server this is.
      assert.match(res.stdout, new RegExp(`^Endpoint: +${hostPort(stack.api)}$`, "m"));
      const use = await runCli(["ctx", "use", "acme-corp/infra"], { home, env: FILE });
      assert.equal(use.code, 0, use.stderr);
      const json = await runCli(["whoami", "-o", "json"], {
        home,
        env: { ...FILE, DATUM_PROJECT: "web-app" },
      });
      assert.equal(json.code, 0, json.stderr);
      const who = JSON.parse(json.stdout);
      assert.equal(who.user.email, "alice@example.com");
      assert.equal(who.session, `alice@example.com@${api}`);
      assert.equal(who.context, "acme-corp/infra");
      assert.equal(who.project.id, "web-app");
      assert.equal(who.credentials.storage, "file");
      assert.deepEqual(who.overrides, ["DATUM_PROJECT=web-app"]);
      const human = await runCli(["whoami"], { home, env: { ...FILE, DATUM_PROJECT: "web-app" } });
      assert.match(human.stdout, /^Organization: +ACME Corp \(acme-corp\)$/m);
      assert.match(human.stdout, /^Override: +DATUM_PROJECT=web-app$/m);
    });

    await t.step("auth get-token prints the token raw, or as an ExecCredential", async () => {
      const raw = await runCli(["auth", "get-token"], { home, env: FILE });
      assert.equal(raw.code, 0, raw.stderr);
      assert.doesNotMatch(raw.stdout, /\n$/);
      const creds = await storedCredentials(home, stack, "alice@example.com");
      assert.equal(raw.stdout, creds.token.access_token);
      const exec = await runCli(["auth", "get-token", "-o", "client.authentication.k8s.io/v1"], {
        home,
        env: FILE,
      });
      assert.equal(exec.code, 0, exec.stderr);
      assert.doesNotMatch(exec.stdout, /\n$/);
      assert.ok(exec.stdout.startsWith('{\n  "kind": "ExecCredential",\n  "apiVersion"'));
      const cred = JSON.parse(exec.stdout);
      assert.deepEqual(Object.keys(cred), ["kind", "apiVersion", "spec", "status"]);
      assert.deepEqual(cred.spec, { interactive: false });
      assert.equal(cred.status.token, creds.token.access_token);
      assert.match(cred.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const unknown = await runCli(["auth", "get-token", "--session", "nobody@x"], {
        home,
        env: FILE,
      });
      assert.equal(unknown.code, 77);
      assert.match(unknown.stderr, /no session named "nobody@x"/);
    });

    await t.step("a browser login through BROWSER adds a second user", async () => {
      await stack.setAutoApprove("bob@example.com");
      const res = await runCli(["login", ...loginFlags(stack)], {
        home,
        env: { ...FILE, BROWSER: scriptedBrowser() },
      });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /Opening your browser/);
      assert.match(
        res.stderr,
        /http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/authorize\?\S*code_challenge_method=S256/,
      );
      assert.match(res.stderr, /[?&]nonce=/);
      assert.match(
        res.stderr,
        /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fdatumctl%2Fauth%2Fcallback/,
      );
      assert.match(
        res.stdout,
        /Authenticated as Bob Example \(bob@example\.com\)|Authenticated as .*bob@example\.com/,
      );
      const who = await runCli(["whoami", "-o", "json"], { home, env: FILE });
      assert.equal(JSON.parse(who.stdout).user.email, "bob@example.com");
    });

    await t.step("auth list shows both logins and which is active", async () => {
      const res = await runCli(["auth", "list"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stdout.trim().split("\n");
      assert.match(lines[0], /^USER +STATUS +STORAGE$/);
      assert.match(res.stdout, /^alice@example\.com +file$/m);
      assert.match(res.stdout, /^bob@example\.com +Active +file$/m);
      const json = JSON.parse(
        (await runCli(["auth", "ls", "-o", "json"], { home, env: FILE })).stdout,
      );
      assert.deepEqual(json.map((r: { email: string }) => r.email), [
        "alice@example.com",
        "bob@example.com",
      ]);
      assert.equal(json.find((r: { active: boolean }) => r.active).email, "bob@example.com");
    });

    await t.step(
      "auth switch restores the session's last context; get-token follows it",
      async () => {
        const res = await runCli(["auth", "switch", "alice@example.com"], { home, env: FILE });
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /Switched to Alice Example \(alice@example\.com\)/);
        assert.match(res.stdout, /Context: +acme-corp\/infra/);
        const token = await runCli(["auth", "get-token"], { home, env: FILE });
        const alice = await storedCredentials(home, stack, "alice@example.com");
        assert.equal(token.stdout, alice.token.access_token);
        const who = await runCli(["whoami", "-o", "json"], { home, env: FILE });
        assert.equal(JSON.parse(who.stdout).context, "acme-corp/infra");
        const ambiguous = await runCli(["auth", "switch"], { home, env: FILE });
        assert.equal(ambiguous.code, 2);
        assert.match(ambiguous.stderr, /needs a terminal/);
      },
    );

    await t.step("logout EMAIL removes the session, its contexts and its secret", async () => {
      const res = await runCli(["logout", "alice@example.com"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /Logged out alice@example\.com/);
      const file = await readCredentialsFile(home);
      assert.equal(file["datumctl-auth"][`alice@example.com@${hostPort(stack.issuer)}`], undefined);
      assert.deepEqual(JSON.parse(file["datumctl-auth"].known_users), [
        `bob@example.com@${hostPort(stack.issuer)}`,
      ]);
      const config = await Deno.readTextFile(`${home}/.datumctl/config`);
      assert.doesNotMatch(config, /alice@example\.com/);
      const list = await runCli(["auth", "list"], { home, env: FILE });
      assert.doesNotMatch(list.stdout, /alice/);
      const again = await runCli(["logout", "alice@example.com"], { home, env: FILE });
      assert.equal(again.code, 77);
    });

    await t.step("logout --all forgets everything", async () => {
      const res = await runCli(["logout", "--all"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(await readCredentialsFile(home), {});
      const who = await runCli(["whoami"], { home, env: FILE });
      assert.equal(who.code, 77);
      assert.match(
        who.stderr,
        /No active user found\.\nPlease login first using: `datumctl login`/,
      );
    });
  } finally {
    await stack.stop();
  }
});
