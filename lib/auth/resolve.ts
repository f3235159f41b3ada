/**
 * Turns "which login?" into an {@link AuthContext}: the one entry point API, resource and tunnel
 * code use to get a bearer token.
 *
 * Order:
 * 1. `DATUM_TOKEN=<access token>`: used as is (CI, no stored login);
 * 2. `DATUM_CREDENTIALS=<key file>`: a service-account key, tokens minted in memory;
 * 3. a stored session: the one named, else the session of the given context, else the login on
 *    the server `DATUM_ENDPOINT` names (lib/auth/endpoint-override.ts), else the active session
 *    (the current context's session, else `active-session`).
 * For 1 and 2 the API server is `DATUM_ENDPOINT` (or datum-mcp's `DATUM_API_HOSTNAME`), else the
 * key file's `api_endpoint` (2 only), else the chosen session's server, else production; the
 * issuer is `DATUM_AUTH_ENDPOINT`, else derived (`api.X` → `auth.X`).
 */
import { type DatumctlConfig, loadConfig, type Session } from "../store/config.ts";
import { configPath } from "../store/paths.ts";
import { CredentialStore, isServiceAccountCredential } from "../store/credentials.ts";
import {
  MAX_API_RESPONSE_BYTES,
  MAX_AUTH_RESPONSE_BYTES,
  readLimitedText,
} from "../http/capped-body.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import type { AuthContext, Identity } from "./token-source.ts";
import { hostOf, issuerFromAuthHostname, parseServerUrl, PRODUCTION } from "./endpoints.ts";
import { activeSession, needsUserKeyMigration, notLoggedIn } from "./sessions.ts";
import { sessionForEndpoint } from "./endpoint-override.ts";
import {
  KeyFileTokens,
  loginCommandFor,
  StaticTokens,
  StoredSessionTokens,
} from "./session-tokens.ts";
import { decodeJwtClaims } from "./stored-token.ts";
import { updateConfig } from "../store/config.ts";
import { httpClientFor, trustedCertificates } from "../http/tls.ts";
import { environmentCredential } from "./environment-credential.ts";

export { environmentCredential };

/** Which login to resolve; all optional (then: environment, else the active session). */
export interface ResolveAuthOptions {
  /** An explicit session name (`auth get-token --session`). */
  session?: string;
  /** A stored context name (`<session>/<org>[/<project>]`) whose session to use. */
  context?: string;
  env?: (name: string) => string | undefined;
  /** Receives warnings meant for the person (e.g. the keychain fallback), one line each. */
  warn?: (message: string) => void;
  /** Ignore `DATUM_TOKEN`/`DATUM_CREDENTIALS` (e.g. `logout`, which manages stored logins). */
  ignoreEnvironment?: boolean;
  configPath?: string;
  /** The config as the caller already read it (else it is read from `configPath`). */
  config?: DatumctlConfig;
}

function apiFromEnvironment(env: (name: string) => string | undefined): string | undefined {
  const value = env("DATUM_ENDPOINT") || env("DATUM_API_HOSTNAME");
  if (!value) return undefined;
  const url = parseServerUrl(
    value,
    env("DATUM_ENDPOINT") ? "DATUM_ENDPOINT" : "DATUM_API_HOSTNAME",
  );
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
}

function issuerFor(
  env: (name: string) => string | undefined,
  apiBase: string,
  session?: Session,
): string | undefined {
  const explicit = env("DATUM_AUTH_ENDPOINT");
  if (explicit) {
    const url = parseServerUrl(explicit, "DATUM_AUTH_ENDPOINT");
    return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
  }
  if (session && hostOf(session.endpoint.server) === hostOf(apiBase)) {
    return issuerFromAuthHostname(session.endpoint["auth-hostname"]);
  }
  const url = new URL(apiBase);
  if (!url.hostname.startsWith("api.")) return undefined;
  url.hostname = `auth.${url.hostname.slice(4)}`;
  return url.origin;
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    ...init,
    headers: { accept: "application/json", "user-agent": "datumctl", ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${response.status}`);
  }
  return JSON.parse(await readLimitedText(response, MAX_AUTH_RESPONSE_BYTES));
}

async function discoveryDocument(issuer: string): Promise<Record<string, unknown>> {
  return await fetchJson(`${issuer}/.well-known/openid-configuration`);
}

/** Who a raw access token belongs to: its JWT claims, else the issuer's userinfo endpoint. */
/**
 * Who a token belongs to, asked of the API server (`SelfSubjectReview`,
 * authentication.k8s.io/v1): the answer for tokens that are not JWTs. Undefined when the
 * server does not say.
 */
async function selfSubjectReview(
  token: string,
  apiBase: string,
  http: Deno.HttpClient | undefined,
): Promise<{ subject: string; email: string } | undefined> {
  try {
    const response = await fetch(`${apiBase}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "user-agent": "datumctl",
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
      signal: AbortSignal.timeout(15_000),
      client: http,
    });
    if (response.status === 401) {
      await response.body?.cancel();
      throw new CliError("UNAUTHORIZED", "the API server rejected the token in DATUM_TOKEN", {
        hint: "The token in DATUM_TOKEN was rejected (expired, revoked or not a Datum token): " +
          "set a fresh one, or unset DATUM_TOKEN to use your stored login.",
        exitCode: ExitCode.noPermission,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const review = JSON.parse(await readLimitedText(response, MAX_API_RESPONSE_BYTES)) as {
      status?: { userInfo?: { username?: string; uid?: string } };
    };
    const info = review.status?.userInfo;
    if (!info?.uid) return undefined;
    return { subject: info.uid, email: info.username?.includes("@") ? info.username : "" };
  } catch (err) {
    // A rejected token or an answer over its size cap is the user's to see; anything else
    // (no such API, a network blip) leaves the identity to the other sources.
    if (err instanceof CliError) throw err;
    return undefined;
  }
}

async function identityOfToken(
  token: string,
  issuer: string | undefined,
  api: { base: string; http: Deno.HttpClient | undefined },
): Promise<Identity> {
  const claims = decodeJwtClaims(token);
  let subject = typeof claims?.sub === "string" ? claims.sub : "";
  let email = typeof claims?.email === "string" ? claims.email : "";
  const name = typeof claims?.name === "string" ? claims.name : undefined;
  if (subject && email) return { subject, email, name };
  if (!subject) {
    const reviewed = await selfSubjectReview(token, api.base, api.http);
    if (reviewed) {
      subject = reviewed.subject;
      email ||= reviewed.email;
      if (email) return { subject, email, name };
    }
  }
  if (issuer) {
    try {
      const doc = await discoveryDocument(issuer);
      if (typeof doc.userinfo_endpoint === "string") {
        const info = await fetchJson(doc.userinfo_endpoint, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (typeof info.sub === "string") {
          return {
            subject: subject || info.sub,
            email: typeof info.email === "string" ? info.email : email,
            name: typeof info.name === "string" ? info.name : name,
          };
        }
      }
    } catch { /* fall through: the token may still work for the API */ }
  }
  return { subject, email, name };
}

async function pickSession(
  options: ResolveAuthOptions,
  required: boolean,
): Promise<Session | undefined> {
  const config = options.config ?? await loadConfig(options.configPath ?? configPath(options.env));
  if (options.session) {
    const session = config.sessions.find((s) => s.name === options.session);
    if (!session) {
      throw new CliError(
        "SESSION_NOT_FOUND",
        `no session named "${options.session}" — run 'datumctl login' or 'datumctl auth update-kubeconfig'`,
        { hint: "Run 'datumctl auth list' to see the sessions.", exitCode: ExitCode.noPermission },
      );
    }
    return session;
  }
  if (options.context) {
    const ctx = config.contexts.find((c) => c.name === options.context);
    if (!ctx) {
      throw new CliError("CONTEXT_NOT_FOUND", `no context named "${options.context}"`, {
        hint: "Run 'datumctl ctx' to see the contexts.",
        exitCode: ExitCode.config,
      });
    }
    const session = config.sessions.find((s) => s.name === ctx.session);
    if (!session) {
      throw new CliError(
        "SESSION_NOT_FOUND",
        `the context "${ctx.name}" belongs to the session "${ctx.session}", which no longer exists`,
        { hint: "Run 'datumctl login' to sign in again.", exitCode: ExitCode.noPermission },
      );
    }
    return session;
  }
  const active = sessionForEndpoint(config, options.env ?? Deno.env.get) ?? activeSession(config);
  if (active) return active;
  if (!required) return undefined;
  if (config.sessions.length === 0) {
    // Probing for a pre-config login must not warn about the keychain when there is none.
    const probe = new CredentialStore({ env: options.env });
    const { bootstrapLegacySession } = await import("./migrations.ts");
    const adopted = await bootstrapLegacySession(probe, options.configPath);
    if (adopted) return adopted;
  }
  throw notLoggedIn();
}

/**
 * Resolves the login to use: `DATUM_TOKEN`, `DATUM_CREDENTIALS`, else the named session, the
 * session of `context`, or the active session. Throws a `CliError` (exit 77) when there is none.
 */
export async function resolveAuthContext(options: ResolveAuthOptions = {}): Promise<AuthContext> {
  const env = options.env ?? Deno.env.get;
  // A copy: a login migration below drops the caller's config, which it made stale.
  const resolving = { ...options };
  const auth = await resolveCredential(resolving, env);
  // A stored session's CA is trusted for every request to its server, whoever's token is used.
  const config = resolving.config ?? await loadConfig(options.configPath).catch(() => undefined);
  const sessions = config?.sessions ?? [];
  const owner = sessions.find((s) => s.name === auth.sessionName) ??
    sessions.find((s) =>
      s.endpoint["certificate-authority-data"] && hostOf(s.endpoint.server) === hostOf(auth.apiBase)
    );
  const pems = await trustedCertificates(owner?.endpoint["certificate-authority-data"], env);
  return pems.length ? { ...auth, caCertificates: pems } : auth;
}

async function resolveCredential(
  options: ResolveAuthOptions,
  env: (name: string) => string | undefined,
): Promise<AuthContext> {
  let lazyStore: CredentialStore | undefined;
  const store = () => (lazyStore ??= new CredentialStore({ env, warn: options.warn }));

  if (!options.ignoreEnvironment) {
    const fromEnv = environmentCredential(env);
    if (fromEnv) {
      const session = await pickSession(options, false).catch(() => undefined);
      if (fromEnv.kind === "DATUM_TOKEN") {
        const token = env("DATUM_TOKEN")!;
        const apiBase = apiFromEnvironment(env) ?? session?.endpoint.server ??
          `https://${PRODUCTION.apiHost}`;
        const owner = session && hostOf(session.endpoint.server) === hostOf(apiBase)
          ? session
          : undefined;
        const http = httpClientFor(
          await trustedCertificates(owner?.endpoint["certificate-authority-data"], env),
        );
        const identity = await identityOfToken(token, issuerFor(env, apiBase, session), {
          base: apiBase,
          http,
        });
        const exp = decodeJwtClaims(token)?.exp;
        return {
          kind: "DATUM_TOKEN",
          identity,
          apiBase,
          tokens: new StaticTokens(
            token,
            typeof exp === "number" ? new Date(exp * 1000) : undefined,
          ),
        };
      }
      return await keyFileContext(fromEnv.path, env, session);
    }
  }

  const session = (await pickSession(options, true))!;
  let userKey = session["user-key"];
  if (needsUserKeyMigration({ sessions: [session] } as never)) {
    // Loaded only for a login an older release made.
    const { migrateUserKeys } = await import("./migrations.ts");
    userKey = await updateConfig(async (config) => {
      await migrateUserKeys(config, store());
      return config.sessions.find((s) => s.name === session.name)?.["user-key"] ?? userKey;
    }, options.configPath);
    options.config = undefined;
  }
  const creds = await store().getCredentials(userKey);
  if (!creds) {
    throw new CliError(
      "CREDENTIALS_MISSING",
      `no stored credentials for ${session["user-email"]} on ${hostOf(session.endpoint.server)}`,
      {
        hint: `Run '${
          loginCommandFor({
            hostname: session.endpoint["auth-hostname"],
            api_hostname: hostOf(session.endpoint.server),
            client_id: "",
          }, session.endpoint.server)
        }' to sign in again.`,
        exitCode: ExitCode.noPermission,
      },
    );
  }
  return {
    kind: isServiceAccountCredential(creds) ? "service-account" : "session",
    identity: {
      email: creds.user_email || session["user-email"],
      name: creds.user_name || session["user-name"] || undefined,
      subject: creds.subject,
    },
    apiBase: session.endpoint.server.replace(/\/+$/, ""),
    sessionName: session.name,
    tokens: new StoredSessionTokens(userKey, creds, store(), env),
  };
}

async function keyFileContext(
  path: string,
  env: (name: string) => string | undefined,
  session: Session | undefined,
): Promise<AuthContext> {
  const { readServiceAccountKey } = await import("./service-account.ts");
  const key = await readServiceAccountKey(path);
  let apiBase = apiFromEnvironment(env);
  if (!apiBase && key.api_endpoint) {
    const url = parseServerUrl(key.api_endpoint, `the api_endpoint of ${path}`);
    apiBase = `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
  }
  apiBase ??= session?.endpoint.server ?? `https://${PRODUCTION.apiHost}`;
  const issuer = issuerFor(env, apiBase, session);
  const mint = async () => {
    let tokenUrl: string | undefined;
    if (key.token_uri && (!issuer || new URL(key.token_uri).origin === new URL(issuer).origin)) {
      tokenUrl = key.token_uri;
    } else if (issuer) {
      const doc = await discoveryDocument(issuer).catch((err) => {
        if (err instanceof CliError) throw err; // e.g. an answer over the size cap (65)
        throw new CliError(
          "DISCOVERY_FAILED",
          `cannot read the sign-in configuration of ${issuer}: ${err.message}`,
          {
            hint: "Check DATUM_AUTH_ENDPOINT and your network.",
            exitCode: ExitCode.unavailable,
            retryable: true,
          },
        );
      });
      if (typeof doc.token_endpoint === "string") tokenUrl = doc.token_endpoint;
    }
    if (!tokenUrl) {
      throw new CliError(
        "KEYFILE_NO_ISSUER",
        `cannot tell which sign-in server ${path} belongs to`,
        { hint: "Set DATUM_AUTH_ENDPOINT to the issuer URL.", exitCode: ExitCode.config },
      );
    }
    const { exchangeServiceAccountKey, serviceAccountCredentials } = await import(
      "./service-account.ts"
    );
    const answer = await exchangeServiceAccountKey(key, tokenUrl);
    return serviceAccountCredentials(key, answer, {
      hostname: new URL(tokenUrl).host,
      apiHostname: hostOf(apiBase!),
      authUrl: "",
      tokenUrl,
      scopes: (key.scope ?? "").split(" ").filter(Boolean),
    }, { private_key: key.private_key });
  };
  return {
    kind: "DATUM_CREDENTIALS",
    identity: { email: key.client_email, subject: key.client_id, name: key.client_email },
    apiBase,
    tokens: new KeyFileTokens(mint),
  };
}
