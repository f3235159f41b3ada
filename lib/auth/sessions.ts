/**
 * Login sessions in `~/.datumctl/config`: which one is active, listing, switching and logging
 * out.
 *
 * Reading which session is active is pure over the config; the active session is the current
 * context's session, else `active-session`. Operations that touch secrets take a
 * {@link CredentialStore}; nothing here loads the keychain unless a secret is actually read or
 * deleted.
 */
import {
  type Context,
  type DatumctlConfig,
  loadConfig,
  type Session,
  updateConfig,
} from "../store/config.ts";
import {
  type CredentialStore,
  isServiceAccountCredential,
  type StorageKind,
} from "../store/credentials.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { activeSession } from "../store/active-session.ts";
import { hostOf } from "./endpoints.ts";

export { activeSession, currentContext } from "../store/active-session.ts";

/** True when sessions span more than one API server (then endpoints are shown). */
export function hasMultipleEndpoints(config: DatumctlConfig): boolean {
  return new Set(config.sessions.map((s) => s.endpoint?.server)).size > 1;
}

/** The "not logged in" error every command shares. */
export function notLoggedIn(): CliError {
  return new CliError("NOT_LOGGED_IN", "No active user found.", {
    hint: "Please login first using: `datumctl login`",
    exitCode: ExitCode.noPermission,
  });
}

/** One row of `auth list`. */
export interface SessionSummary {
  name: string;
  email: string;
  userName?: string;
  /** API host, e.g. `api.datum.net`. */
  endpoint: string;
  server: string;
  authHostname: string;
  active: boolean;
  /** Where its secret lives. */
  storage: StorageKind;
  /** Whether the store still holds its credentials. */
  credentials: "present" | "missing";
  kind: "user" | "service-account";
  /** When the current access token expires (it is refreshed on use). */
  expiry?: string;
  lastContext?: string;
}

/** Every session with its status, reading each one's credentials from `store`. */
export async function listSessions(
  store: CredentialStore,
  configPath?: string,
): Promise<SessionSummary[]> {
  const config = await loadConfig(configPath);
  const active = activeSession(config);
  const rows: SessionSummary[] = [];
  for (const s of config.sessions) {
    const creds = await store.getCredentials(s["user-key"]).catch(() => undefined);
    rows.push({
      name: s.name,
      email: s["user-email"],
      userName: s["user-name"],
      endpoint: hostOf(s.endpoint?.server ?? ""),
      server: s.endpoint?.server ?? "",
      authHostname: s.endpoint?.["auth-hostname"] ?? "",
      active: s.name === active?.name,
      storage: await store.kind(),
      credentials: creds ? "present" : "missing",
      kind: creds && isServiceAccountCredential(creds) ? "service-account" : "user",
      expiry: creds?.token.expiry,
      lastContext: s["last-context"],
    });
  }
  return rows;
}

/** What {@link switchCandidates} found. */
export interface SwitchCandidates {
  /** Never empty. */
  candidates: Session[];
  /** The active session's name (the picker's default). */
  activeName?: string;
}

/**
 * The sessions `auth switch [EMAIL|SESSION] [--endpoint HOST]` could mean: the session of that
 * name, else every session of that email (every session without one), narrowed to one API
 * server by `endpoint`.
 */
export async function switchCandidates(
  emailOrName?: string,
  options: { endpoint?: string; configPath?: string } = {},
): Promise<SwitchCandidates> {
  const config = await loadConfig(options.configPath);
  const byName = emailOrName ? config.sessions.find((s) => s.name === emailOrName) : undefined;
  let candidates = byName ? [byName] : sessionsOfEmail(config, emailOrName);
  if (options.endpoint) {
    const wanted = hostOf(options.endpoint);
    candidates = candidates.filter((s) => hostOf(s.endpoint.server) === wanted);
    if (candidates.length === 0) {
      throw new CliError(
        "SESSION_NOT_FOUND",
        `no login${emailOrName ? ` for ${emailOrName}` : ""} on ${wanted}`,
        {
          hint: "Run 'datumctl auth list' to see the logins.",
          exitCode: ExitCode.noPermission,
        },
      );
    }
  }
  return { candidates, activeName: activeSession(config)?.name };
}

function sessionsOfEmail(config: DatumctlConfig, email: string | undefined): Session[] {
  if (config.sessions.length === 0) {
    throw new CliError("NOT_LOGGED_IN", "No authenticated sessions.", {
      hint: "Run 'datumctl login' to authenticate.",
      exitCode: ExitCode.noPermission,
    });
  }
  if (email === undefined) return config.sessions;
  const matches = config.sessions.filter((s) => s["user-email"] === email);
  if (matches.length === 0) {
    throw new CliError("SESSION_NOT_FOUND", `No sessions found for ${email}.`, {
      hint:
        "Run 'datumctl auth list' to see authenticated users, or 'datumctl login' to add a new one.",
      exitCode: ExitCode.noPermission,
    });
  }
  return matches;
}

/** What a switch did. */
export interface SwitchResult {
  session: Session;
  /** The restored context, when the session had a usable last context. */
  context?: Context;
  multipleEndpoints: boolean;
  /** Why the credential store's `active_user` could not follow the switch, if it could not. */
  activeUserProblem?: string;
}

/**
 * Makes `sessionName` active: sets `active-session` and restores the session's last context
 * (else clears `current-context`, so the switch is not undone by an old context of another
 * session). With `store`, its `active_user` follows too, so Go datumctl's `auth get-token`
 * (which reads `active_user`) answers for the same user.
 */
export async function switchSession(
  sessionName: string,
  configPath?: string,
  store?: CredentialStore,
): Promise<SwitchResult> {
  const result = await switchConfig(sessionName, configPath);
  if (store) {
    try {
      await store.setActiveUser(result.session["user-key"]);
    } catch (err) {
      result.activeUserProblem = err instanceof Error ? err.message : String(err);
    }
  }
  return result;
}

function switchConfig(sessionName: string, configPath?: string): Promise<SwitchResult> {
  return updateConfig((config) => {
    const session = config.sessions.find((s) => s.name === sessionName);
    if (!session) {
      throw new CliError("SESSION_NOT_FOUND", `no session named "${sessionName}"`, {
        hint: "Run 'datumctl auth list' to see the sessions.",
        exitCode: ExitCode.noPermission,
      });
    }
    config["active-session"] = session.name;
    const last = session["last-context"];
    const context = last ? config.contexts.find((c) => c.name === last) : undefined;
    if (context && context.session === session.name) config["current-context"] = context.name;
    else delete config["current-context"];
    return { session, context, multipleEndpoints: hasMultipleEndpoints(config) };
  }, configPath);
}

/** What a logout removed. */
export interface LogoutResult {
  removed: Session[];
  /** Secrets that could not be deleted (with the reason); their sessions are gone anyway. */
  problems: string[];
  /**
   * Why a login's refresh token could not be revoked at its issuer (one sentence each); the
   * login was forgotten anyway.
   */
  unrevoked: string[];
}

/**
 * ./revoke.ts by a computed specifier: it loads oauth4webapi, which `deno run` would otherwise
 * resolve for every command that reads the sessions (a literal `import()` is read up front).
 */
function importRevoke(): Promise<typeof import("./revoke.ts")> {
  const specifier = "./revoke.ts";
  return import(specifier);
}

/**
 * Removes sessions, their contexts and cache entries, their secrets (and service-account key
 * files), and prunes `known_users`/`active_user`. `target` is an email (every session of it),
 * `"active"` (the active session) or `"all"`. Each refresh token is revoked at its issuer
 * (RFC 7009) before it is deleted, under the login's refresh lock so no refresh rotates it
 * meanwhile; a revocation that fails is reported in `unrevoked`, never a reason to keep it.
 */
export async function logout(
  target: { email: string } | "active" | "all",
  store: CredentialStore,
  options: { configPath?: string; env?: (name: string) => string | undefined } = {},
): Promise<LogoutResult> {
  const config = await loadConfig(options.configPath);
  let chosen: Session[];
  if (target === "all") {
    chosen = config.sessions;
  } else if (target === "active") {
    const active = activeSession(config);
    if (!active) throw notLoggedIn();
    chosen = [active];
  } else {
    chosen = config.sessions.filter((s) => s["user-email"] === target.email);
    if (chosen.length === 0) {
      throw new CliError("SESSION_NOT_FOUND", `No sessions found for ${target.email}.`, {
        hint: "Run 'datumctl auth list' to see authenticated users.",
        exitCode: ExitCode.noPermission,
      });
    }
  }
  const names = new Set(chosen.map((s) => s.name));
  // An unreadable credential store stops the logout before anything changes.
  await store.activeUser();

  // Config first: once it is written the sessions are gone even if a secret deletion fails.
  const remaining = await updateConfig((c) => {
    c.sessions = c.sessions.filter((s) => !names.has(s.name));
    c.contexts = c.contexts.filter((ctx) => !names.has(ctx.session));
    c.cache.organizations = c.cache.organizations.filter((o) => !names.has(o.session));
    c.cache.projects = c.cache.projects.filter((p) => !names.has(p.session));
    if (c["current-context"] && !c.contexts.some((ctx) => ctx.name === c["current-context"])) {
      delete c["current-context"];
    }
    if (c["active-session"] && names.has(c["active-session"])) {
      // Another login takes over (as active_user does below): the current context's if one is
      // left, else the first remaining login; with none left, nobody is logged in.
      const next = c["current-context"] ? undefined : c.sessions[0];
      if (next) {
        c["active-session"] = next.name;
        if (next["last-context"] && c.contexts.some((ctx) => ctx.name === next["last-context"])) {
          c["current-context"] ??= next["last-context"];
        }
      } else delete c["active-session"];
    }
    return c.sessions;
  }, options.configPath);

  const [{ serviceAccountKeyPath }, { withRefreshLock }, { revokeRefreshToken }] = await Promise
    .all([
      import("./service-account.ts"),
      import("./session-tokens.ts"),
      importRevoke(),
    ]);
  const problems: string[] = [];
  const unrevoked: string[] = [];
  const stillUsed = new Set(remaining.map((s) => s["user-key"]));
  const keys = [...new Set(chosen.map((s) => s["user-key"]))].filter((k) => !stillUsed.has(k));
  if (target === "all") {
    for (const k of await store.knownUsers().catch(() => [])) {
      if (!stillUsed.has(k) && !keys.includes(k)) keys.push(k);
    }
  }
  for (const key of keys) {
    try {
      const creds = await withRefreshLock(key, store, options.env, async () => {
        const creds = await store.getCredentials(key).catch(() => undefined);
        if (creds) {
          await revokeRefreshToken(creds).catch((err) => {
            unrevoked.push(err instanceof Error ? err.message : String(err));
          });
        }
        await store.delete(key);
        return creds;
      });
      const pemPaths = new Set([await serviceAccountKeyPath(key, options.env)]);
      if (creds?.service_account?.private_key_path) {
        pemPaths.add(creds.service_account.private_key_path);
      }
      for (const path of pemPaths) await Deno.remove(path).catch(() => {});
    } catch (err) {
      problems.push(`${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    await store.removeKnownUsers(keys);
    const activeUser = await store.activeUser();
    if (activeUser && (keys.includes(activeUser) || target === "all")) {
      const next = remaining.length > 0
        ? (activeSession(await loadConfig(options.configPath)) ?? remaining[0])["user-key"]
        : undefined;
      await store.setActiveUser(next);
    }
  } catch (err) {
    problems.push(`known users: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { removed: chosen, problems, unrevoked };
}

/** True when some session still uses a key without its auth host (cheap, no store access). */
export function needsUserKeyMigration(config: DatumctlConfig): boolean {
  return config.sessions.some((s) => {
    const authHost = s.endpoint?.["auth-hostname"];
    return authHost && s["user-key"] && !s["user-key"].endsWith(`@${authHost}`);
  });
}
