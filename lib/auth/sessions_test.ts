import assert from "node:assert/strict";
import { CredentialStore } from "../store/credentials.ts";
import { type DatumctlConfig, loadConfig, updateConfig } from "../store/config.ts";
import { activeSession, logout, switchCandidates, switchSession } from "./sessions.ts";
import { serviceAccountKeyPath } from "./service-account.ts";

function session(email: string, host: string) {
  return {
    name: `${email}@api.${host}`,
    "user-key": `${email}@auth.${host}`,
    "user-email": email,
    endpoint: { server: `https://api.${host}`, "auth-hostname": `auth.${host}` },
  };
}

async function setup() {
  const home = await Deno.makeTempDir();
  const vars: Record<string, string> = { HOME: home, DATUMCTL_CREDENTIALS_STORE: "file" };
  const env = (n: string) => vars[n];
  const configPath = `${home}/.datumctl/config`;
  const store = new CredentialStore({ env });
  const jane = session("jane@acme.com", "datum.net");
  const janeStaging = session("jane@acme.com", "staging.env.datum.net");
  const bob = session("bob@acme.com", "datum.net");
  await updateConfig((c) => {
    c.sessions.push({ ...jane, "last-context": `${jane.name}/acme` }, janeStaging, bob);
    c.contexts.push(
      { name: `${jane.name}/acme`, session: jane.name, "organization-id": "acme" },
      { name: `${bob.name}/acme`, session: bob.name, "organization-id": "acme" },
    );
    c.cache.organizations.push({ id: "acme", session: jane.name }, {
      id: "acme",
      session: bob.name,
    });
    c["current-context"] = `${bob.name}/acme`;
    c["active-session"] = jane.name;
  }, configPath);
  for (const s of [jane, janeStaging, bob]) {
    await store.set(s["user-key"], JSON.stringify({ token: { access_token: "x" } }));
    await store.addKnownUser(s["user-key"]);
  }
  await store.setActiveUser(bob["user-key"]);
  return { env, configPath, store, jane, janeStaging, bob };
}

Deno.test("the current context's session is active; active-session is only the fallback", () => {
  const config = {
    sessions: [session("a@x.io", "datum.net"), session("b@x.io", "datum.net")],
    contexts: [{ name: "b@x.io@api.datum.net/o", session: "b@x.io@api.datum.net" }],
    "current-context": "b@x.io@api.datum.net/o",
    "active-session": "a@x.io@api.datum.net",
  } as unknown as DatumctlConfig;
  assert.equal(activeSession(config)?.name, "b@x.io@api.datum.net");
  delete config["current-context"];
  assert.equal(activeSession(config)?.name, "a@x.io@api.datum.net");
});

Deno.test("switch candidates: by session name, by email, narrowed by --endpoint", async () => {
  const { configPath, jane, janeStaging, bob } = await setup();
  const names = async (who?: string, endpoint?: string) =>
    (await switchCandidates(who, { endpoint, configPath })).candidates.map((s) => s.name);
  assert.deepEqual(await names(janeStaging.name), [janeStaging.name]);
  assert.deepEqual(await names("jane@acme.com"), [jane.name, janeStaging.name]);
  assert.deepEqual(await names("jane@acme.com", "api.staging.env.datum.net"), [janeStaging.name]);
  assert.deepEqual(await names(undefined, "https://api.datum.net"), [jane.name, bob.name]);
  assert.equal((await switchCandidates(undefined, { configPath })).activeName, bob.name);
  await assert.rejects(names("bob@acme.com", "api.staging.env.datum.net"), (err: Error) => {
    assert.equal(err.message, "no login for bob@acme.com on api.staging.env.datum.net");
    return true;
  });
  await assert.rejects(names("nobody@acme.com"), /No sessions found for nobody@acme\.com\./);
});

Deno.test("switch restores the last context, or clears a foreign current context", async () => {
  const { configPath, jane, janeStaging } = await setup();
  const r1 = await switchSession(jane.name, configPath);
  assert.equal(r1.context?.name, `${jane.name}/acme`);
  assert.equal(r1.multipleEndpoints, true);
  let config = await loadConfig(configPath);
  assert.equal(config["current-context"], `${jane.name}/acme`);
  await switchSession(janeStaging.name, configPath);
  config = await loadConfig(configPath);
  assert.equal(config["current-context"], undefined);
  assert.equal(activeSession(config)?.name, janeStaging.name);
});

Deno.test("logout EMAIL removes every session of it, contexts, cache, secrets and key files", async () => {
  const { env, configPath, store, jane, janeStaging, bob } = await setup();
  const pem = await serviceAccountKeyPath(jane["user-key"], env);
  await Deno.mkdir(pem.replace(/\/[^/]+$/, ""), { recursive: true });
  await Deno.writeTextFile(pem, "key");
  const result = await logout({ email: "jane@acme.com" }, store, { configPath, env });
  assert.deepEqual(result.removed.map((s) => s.name).sort(), [jane.name, janeStaging.name].sort());
  const config = await loadConfig(configPath);
  assert.deepEqual(config.sessions.map((s) => s.name), [bob.name]);
  assert.deepEqual(config.contexts.map((c) => c.session), [bob.name]);
  assert.deepEqual(config.cache.organizations.map((o) => o.session), [bob.name]);
  assert.equal(config["active-session"], undefined);
  assert.equal(config["current-context"], `${bob.name}/acme`);
  assert.equal(await store.get(jane["user-key"]), undefined);
  assert.equal(await store.get(janeStaging["user-key"]), undefined);
  assert.deepEqual(await store.knownUsers(), [bob["user-key"]]);
  assert.equal(await store.activeUser(), bob["user-key"]);
  await assert.rejects(() => Deno.stat(pem), Deno.errors.NotFound);
});

Deno.test("logout of the active login resets active_user; --all forgets everything", async () => {
  const { env, configPath, store, bob } = await setup();
  const r = await logout("active", store, { configPath, env });
  assert.deepEqual(r.removed.map((s) => s.name), [bob.name]);
  assert.notEqual(await store.activeUser(), bob["user-key"]);
  await logout("all", store, { configPath, env });
  const config = await loadConfig(configPath);
  assert.equal(config.sessions.length, 0);
  assert.equal(config.contexts.length, 0);
  assert.equal(await store.activeUser(), undefined);
  assert.deepEqual(await store.knownUsers(), []);
});
