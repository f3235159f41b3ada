import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { loginFlags } from "./support/auth.ts";

// A Secret Service address that cannot answer: the keychain is unavailable.
const NO_KEYCHAIN = { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/datumctl-test-bus" };

Deno.test("credential storage without a keychain, and unreadable files", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    await t.step("no keychain: login falls back to a 0600 file and warns once", async () => {
      const home = await makeHome();
      const path = `${home}/.datumctl/credentials.json`;
      const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
        home,
        env: NO_KEYCHAIN,
      });
      assert.equal(res.code, 0, res.stderr);
      const warnings = res.stderr.split("\n").filter((l) =>
        l.startsWith("warning: system keyring")
      );
      assert.equal(warnings.length, 1, res.stderr);
      assert.match(
        warnings[0],
        new RegExp(
          `^warning: system keyring unavailable \\(.+\\); falling back to insecure file storage at ${path}$`,
        ),
      );
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${home}/.datumctl`)).mode! & 0o777, 0o700);

      const list = await runCli(["auth", "list"], { home, env: NO_KEYCHAIN });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^alice@example\.com +Active +file$/m);
      assert.doesNotMatch(list.stderr, /warning/, "the file store is sticky: no second warning");
      const who = await runCli(["whoami"], { home, env: NO_KEYCHAIN });
      assert.match(who.stdout, new RegExp(`^Credentials: +file \\(${path}\\)$`, "m"));
      const token = await runCli(["auth", "get-token"], { home, env: NO_KEYCHAIN });
      assert.equal(token.code, 0, token.stderr);

      const forced = await runCli(["auth", "get-token"], {
        home,
        env: { ...NO_KEYCHAIN, DATUMCTL_CREDENTIALS_STORE: "keychain" },
      });
      assert.equal(forced.code, 78, forced.stderr);
      // The file holds the login, so forcing the keychain would split it from Go's view.
      assert.match(forced.stderr, /DATUMCTL_CREDENTIALS_STORE=keychain, but .* still holds logins/);
    });

    await t.step("a corrupt config names the file and line and is left untouched", async () => {
      const home = await makeHome();
      await Deno.mkdir(`${home}/.datumctl`, { mode: 0o700 });
      const path = `${home}/.datumctl/config`;
      const broken = "sessions:\n  - name: a\n   bad: [\n";
      await Deno.writeTextFile(path, broken);
      for (
        const args of [["whoami"], ["auth", "list"], ["auth", "get-token"], ["logout", "--all"], [
          "login",
          ...loginFlags(stack),
          "--no-browser",
        ]]
      ) {
        const res = await runCli(args, { home, env: { DATUMCTL_CREDENTIALS_STORE: "file" } });
        assert.equal(res.code, 65, `${args.join(" ")}: ${res.stderr}`);
        assert.match(res.stderr, new RegExp(`^error: cannot parse ${path} \\(line \\d+\\)`, "m"));
        assert.match(res.stderr, /will not overwrite/);
      }
      assert.equal(await Deno.readTextFile(path), broken);
      await assert.rejects(
        () => Deno.stat(`${home}/.datumctl/credentials.json`),
        Deno.errors.NotFound,
      );
    });

    await t.step("a corrupt credentials file names the file and is left untouched", async () => {
      const home = await makeHome();
      const env = { DATUMCTL_CREDENTIALS_STORE: "file" };
      const login = await runCli(["login", ...loginFlags(stack), "--no-browser"], { home, env });
      assert.equal(login.code, 0, login.stderr);
      const path = `${home}/.datumctl/credentials.json`;
      const broken = (await Deno.readTextFile(path)).replace(/\}\s*$/, ",}");
      await Deno.writeTextFile(path, broken);
      for (
        const args of [["auth", "get-token"], ["logout"], [
          "login",
          ...loginFlags(stack),
          "--no-browser",
        ]]
      ) {
        const res = await runCli(args, { home, env });
        assert.equal(res.code, 65, `${args.join(" ")}: ${res.stderr}`);
        assert.match(res.stderr, new RegExp(`^error: cannot parse ${path}`, "m"));
      }
      assert.equal(await Deno.readTextFile(path), broken);
    });
  } finally {
    await stack.stop();
  }
});
