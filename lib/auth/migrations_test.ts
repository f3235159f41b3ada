import assert from "node:assert/strict";
import { CredentialStore, type StoredCredentials } from "../store/credentials.ts";
import { loadConfig, parseConfig, serializeConfig } from "../store/config.ts";
import { bootstrapLegacySession, migrateUserKeys } from "./migrations.ts";

async function setup() {
  const home = await Deno.makeTempDir();
  const vars: Record<string, string> = { HOME: home, DATUMCTL_CREDENTIALS_STORE: "file" };
  const env = (n: string) => vars[n];
  return { home, env, store: new CredentialStore({ env }), configPath: `${home}/.datumctl/config` };
}

const blob = (hostname: string, email = "jane@acme.com"): StoredCredentials => ({
  hostname,
  api_hostname: hostname.replace(/^auth\./, "api."),
  client_id: "c",
  endpoint_auth_url: "",
  endpoint_token_url: `https://${hostname}/oauth/v2/token`,
  scopes: [],
  token: { access_token: "at", refresh_token: "rt" },
  user_name: "Jane Doe",
  user_email: email,
  subject: "3141",
});

Deno.test("pre-config logins become a session keyed <subject>@<hostname>, no re-login", async () => {
  const { store, configPath } = await setup();
  await store.putCredentials("jane@acme.com", blob("auth.datum.net"));
  await store.setActiveUser("jane@acme.com");
  await store.addKnownUser("jane@acme.com");
  const session = await bootstrapLegacySession(store, configPath);
  assert.equal(session?.name, "jane@acme.com@api.datum.net");
  assert.equal(session?.["user-key"], "3141@auth.datum.net");
  assert.deepEqual(session?.endpoint, {
    server: "https://api.datum.net",
    "auth-hostname": "auth.datum.net",
  });
  assert.equal((await store.getCredentials("3141@auth.datum.net"))?.token.refresh_token, "rt");
  assert.ok(await store.get("jane@acme.com"), "the old entry is kept");
  const config = await loadConfig(configPath);
  assert.equal(config["active-session"], "jane@acme.com@api.datum.net");
});

Deno.test("nothing stored means nothing to adopt", async () => {
  const { store, configPath } = await setup();
  assert.equal(await bootstrapLegacySession(store, configPath), undefined);
});

Deno.test("bare-email keys move to <email>@<auth host> only for the matching environment", async () => {
  const { store } = await setup();
  await store.putCredentials("jane@acme.com", blob("auth.staging.env.datum.net"));
  const config = await parseConfig(
    await serializeConfig({
      ...(await parseConfig("", "x")),
      sessions: [
        {
          name: "jane@acme.com@api.datum.net",
          "user-key": "jane@acme.com",
          "user-email": "jane@acme.com",
          endpoint: { server: "https://api.datum.net", "auth-hostname": "auth.datum.net" },
        },
        {
          name: "jane@acme.com@api.staging.env.datum.net",
          "user-key": "jane@acme.com",
          "user-email": "jane@acme.com",
          endpoint: {
            server: "https://api.staging.env.datum.net",
            "auth-hostname": "auth.staging.env.datum.net",
          },
        },
      ],
    }),
    "x",
  );
  assert.equal(await migrateUserKeys(config, store), true);
  assert.deepEqual(config.sessions.map((s) => s["user-key"]), [
    "jane@acme.com@auth.datum.net",
    "jane@acme.com@auth.staging.env.datum.net",
  ]);
  assert.equal(await store.get("jane@acme.com@auth.datum.net"), undefined);
  assert.equal(
    (await store.getCredentials("jane@acme.com@auth.staging.env.datum.net"))?.hostname,
    "auth.staging.env.datum.net",
  );
  assert.equal(await migrateUserKeys(config, store), false, "idempotent");
});

Deno.test("bare context names become session-qualified with their pointers", async () => {
  const config = await parseConfig(
    `apiVersion: datumctl.config.datum.net/v1beta1
kind: DatumctlConfig
sessions:
- name: jane@acme.com@api.datum.net
  user-key: jane@acme.com@auth.datum.net
  user-email: jane@acme.com
  endpoint: {server: https://api.datum.net, auth-hostname: auth.datum.net}
  last-context: acme-corp/infra
contexts:
- {name: acme-corp/infra, session: jane@acme.com@api.datum.net, organization-id: acme-corp, project-id: infra}
current-context: acme-corp/infra
cache:
  organizations: [{id: acme-corp, display-name: ACME}]
  projects: []
`,
    "config",
  );
  const want = "jane@acme.com@api.datum.net/acme-corp/infra";
  assert.equal(config.contexts[0].name, want);
  assert.equal(config["current-context"], want);
  assert.equal(config.sessions[0]["last-context"], want);
  assert.equal(config.cache.organizations.length, 0);
});
