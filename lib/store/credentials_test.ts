import assert from "node:assert/strict";
import { credentialsFilePath, CredentialStore, type StoredCredentials } from "./credentials.ts";
import { CliError } from "../core/errors.ts";

async function fileStoreEnv() {
  const home = await Deno.makeTempDir();
  const vars: Record<string, string> = { HOME: home, DATUMCTL_CREDENTIALS_STORE: "file" };
  return { home, env: (n: string) => vars[n] };
}

const creds = (email: string): StoredCredentials => ({
  hostname: "auth.datum.net",
  api_hostname: "api.datum.net",
  client_id: "328728232771788043",
  endpoint_auth_url: "https://auth.datum.net/oauth/v2/authorize",
  endpoint_token_url: "https://auth.datum.net/oauth/v2/token",
  scopes: ["openid", "profile", "email", "offline_access"],
  token: { access_token: "at", token_type: "Bearer", refresh_token: "rt", id_token: "never" },
  user_name: "Jane",
  user_email: email,
  subject: "123",
});

Deno.test("the file store keeps datumctl's layout, 0600, and never the ID token", async () => {
  const { env } = await fileStoreEnv();
  const store = new CredentialStore({ env });
  await store.putCredentials("jane@acme.com@auth.datum.net", creds("jane@acme.com"));
  await store.addKnownUser("jane@acme.com@auth.datum.net");
  await store.setActiveUser("jane@acme.com@auth.datum.net");
  const path = credentialsFilePath(env);
  const raw = JSON.parse(await Deno.readTextFile(path));
  const secret = JSON.parse(raw["datumctl-auth"]["jane@acme.com@auth.datum.net"]);
  assert.equal(secret.token.refresh_token, "rt");
  assert.equal("id_token" in secret.token, false);
  assert.equal(raw["datumctl-auth"].active_user, "jane@acme.com@auth.datum.net");
  assert.deepEqual(JSON.parse(raw["datumctl-auth"].known_users), ["jane@acme.com@auth.datum.net"]);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.equal(await store.kind(), "file");
});

Deno.test("deleting the last secret removes the file so no tool stays pinned to it", async () => {
  const { env } = await fileStoreEnv();
  const store = new CredentialStore({ env });
  await store.set("k", "v");
  assert.equal(await store.get("k"), "v");
  assert.equal(await store.delete("k"), true);
  assert.equal(await store.delete("k"), false);
  await assert.rejects(() => Deno.stat(credentialsFilePath(env)), Deno.errors.NotFound);
});

Deno.test("a non-empty credentials file wins over the keychain (sticky, like datumctl)", async () => {
  const home = await Deno.makeTempDir();
  const vars: Record<string, string> = { HOME: home };
  const env = (n: string) => vars[n];
  await Deno.mkdir(`${home}/.datumctl`, { recursive: true });
  await Deno.writeTextFile(
    credentialsFilePath(env),
    JSON.stringify({ "datumctl-auth": { a: "b" } }),
  );
  const store = new CredentialStore({ env });
  assert.equal(await store.kind(), "file");
  assert.equal(await store.get("a"), "b");
});

Deno.test("a corrupt credentials file is named with its line and left untouched", async () => {
  const { env } = await fileStoreEnv();
  const path = credentialsFilePath(env);
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  const broken = '{\n  "datumctl-auth": {\n    "a": "b",\n  }\n}\n';
  await Deno.writeTextFile(path, broken);
  const store = new CredentialStore({ env });
  for (const op of [() => store.get("a"), () => store.set("c", "d"), () => store.delete("a")]) {
    await assert.rejects(op, (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 65);
      assert.ok(err.message.includes(path), err.message);
      assert.match(err.message, /line \d/);
      return true;
    });
  }
  assert.equal(await Deno.readTextFile(path), broken);
});

Deno.test("a corrupt secret names its entry", async () => {
  const { env } = await fileStoreEnv();
  const store = new CredentialStore({ env });
  await store.set("jane@auth.datum.net", "{not json");
  await assert.rejects(
    () => store.getCredentials("jane@auth.datum.net"),
    /entry "jane@auth.datum.net" in .*credentials.json/,
  );
});

Deno.test("an unknown DATUMCTL_CREDENTIALS_STORE is a configuration error", () => {
  assert.throws(
    () =>
      new CredentialStore({
        env: (n) => ({ HOME: "/nowhere", DATUMCTL_CREDENTIALS_STORE: "vault" })[n],
      }),
    (err: unknown) => err instanceof CliError && err.exitCode === 78,
  );
});
