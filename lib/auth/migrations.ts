/**
 * Upgrades logins made by older datumctl releases in place, so nobody has to log in again
 * (the config's own format upgrades live in the config parser).
 *
 * Session keys without `@<auth host>` are copied to the environment-scoped key, and credentials in
 * the store with no session in the config become a session. Old entries are kept: a migration never
 * destroys a token it could not first copy.
 */
import { type DatumctlConfig, type Session, updateConfig } from "../store/config.ts";
import { type CredentialStore, parseStoredCredentials } from "../store/credentials.ts";
import { hostOf } from "./endpoints.ts";
import { needsUserKeyMigration } from "./sessions.ts";

/** `<identity>@<auth host>`, the credential-store key of a login. */
export function userKeyFor(identity: string, authHost: string): string {
  return identity && authHost ? `${identity}@${authHost}` : identity;
}

/** `<email>@<api host>`, the config name of a login session. */
export function sessionNameFor(email: string, apiServer: string): string {
  return `${email}@${hostOf(apiServer)}`;
}

// The check lives with the sessions, so resolving a login loads this module only to migrate.
export { needsUserKeyMigration };

/**
 * Moves every session whose key lacks `@<auth host>` to `<email>@<auth host>`, copying the stored
 * blob when it was minted for that host and the new key is still empty. Mutates `config`;
 * returns whether it changed.
 */
export async function migrateUserKeys(
  config: DatumctlConfig,
  store: CredentialStore,
): Promise<boolean> {
  let changed = false;
  for (const session of config.sessions) {
    const authHost = session.endpoint?.["auth-hostname"];
    const oldKey = session["user-key"];
    if (!authHost || !oldKey || oldKey.endsWith(`@${authHost}`)) continue;
    const newKey = userKeyFor(session["user-email"] || oldKey, authHost);
    if (newKey === oldKey) continue;
    const raw = await store.get(oldKey);
    if (raw) {
      let hostname = "";
      try {
        hostname = parseStoredCredentials(raw, oldKey).hostname;
      } catch {
        hostname = "\0unreadable";
      }
      const matches = hostname === "" || hostname === authHost;
      if (matches && !(await store.get(newKey))) {
        await store.set(newKey, raw);
        await store.addKnownUser(newKey);
      }
    }
    session["user-key"] = newKey;
    changed = true;
  }
  return changed;
}

/**
 * For a user of pre-config datumctl (credentials stored, no session): takes the key in
 * `active_user`, else the only `known_users` entry, re-stores it as `<subject>@<hostname>` and
 * creates the session. Returns the session, or `undefined` when there is nothing to adopt.
 */
export async function bootstrapLegacySession(
  store: CredentialStore,
  configPath?: string,
): Promise<Session | undefined> {
  let key = await store.activeUser();
  if (!key) {
    const known = await store.knownUsers();
    if (known.length === 1) key = known[0];
  }
  if (!key) return undefined;
  const creds = await store.getCredentials(key);
  if (!creds || !creds.user_email) return undefined;
  const apiHost = creds.api_hostname ||
    (creds.hostname.startsWith("auth.") ? `api.${creds.hostname.slice(5)}` : "");
  if (!apiHost) return undefined;

  let userKey = key;
  if (creds.subject && creds.hostname) {
    const canonical = `${creds.subject}@${creds.hostname}`;
    if (canonical !== key) {
      await store.putCredentials(canonical, creds);
      await store.addKnownUser(canonical);
      userKey = canonical;
    }
  }
  const server = /^https?:\/\//.test(apiHost) ? apiHost.replace(/\/+$/, "") : `https://${apiHost}`;
  const session: Session = {
    name: sessionNameFor(creds.user_email, server),
    "user-key": userKey,
    "user-email": creds.user_email,
    ...(creds.user_name ? { "user-name": creds.user_name } : {}),
    endpoint: { server, "auth-hostname": creds.hostname },
  };
  return await updateConfig((config) => {
    const existing = config.sessions.find((s) => s.name === session.name);
    if (existing) return existing;
    config.sessions.push(session);
    config["active-session"] ||= session.name;
    return session;
  }, configPath);
}
