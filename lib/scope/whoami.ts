/**
 * What `whoami` reports: who commands run as, against which server and scope, where the
 * credential is kept, and which overrides are in force. One answer for `datumctl whoami` and the
 * MCP `whoami` tool.
 *
 * By default only the config is read, so `datumctl whoami` stays fast: the keychain is not opened
 * (except to adopt a pre-config datumctl login the first time) and only an environment credential
 * is resolved. `loadLogin` loads the stored login the way an API call would, so a missing
 * credential is an error and the subject and the kind of credential (session or service account)
 * are known.
 */
import { loadConfig, type Session } from "../store/config.ts";
import { credentialsFilePath, CredentialStore, storageKindHint } from "../store/credentials.ts";
import type { StorageKind } from "../store/credentials.ts";
import { type ResolvedScope, resolveScope, type ScopeInputs } from "./resolve.ts";
import { bootstrapLegacySession } from "../auth/migrations.ts";
import { environmentCredential, resolveAuthContext } from "../auth/resolve.ts";
import { activeSession, hasMultipleEndpoints, notLoggedIn } from "../auth/sessions.ts";
import { sessionForEndpoint } from "../auth/endpoint-override.ts";
import { CliError } from "../core/errors.ts";
import { hostOf, PRODUCTION } from "../auth/endpoints.ts";
import type { AuthContext } from "../auth/token-source.ts";

/** Where the credential in use comes from (a stored login says where its secret is kept). */
export type WhoamiCredentials =
  | { source: "session" | "service-account"; storage: StorageKind; path?: string }
  | { source: "DATUM_TOKEN" }
  | { source: "DATUM_CREDENTIALS"; path: string };

/** The answer of {@link whoami}. */
export interface Whoami {
  user: { email: string; name: string | null; subject: string | null };
  /** The login session in use; null for an environment credential. */
  session: string | null;
  /** API server, e.g. `https://api.datum.net`. */
  endpoint: string;
  /** The context's ref within its session (`org` or `org/project`), when one frames the scope. */
  context: string | null;
  organization: { id: string; displayName: string | null } | null;
  project: { id: string; displayName: string | null } | null;
  /**
   * `session` for a stored login (`service-account` for a service-account login, known only
   * with `loadLogin`), else the environment variable that supplies the credential.
   */
  credentials: WhoamiCredentials;
  /** What overrides the config, e.g. `DATUM_TOKEN`, `DATUM_PROJECT=sandbox`. */
  overrides: string[];
  /** The resolved scope; null when none applies (see {@link scopeError}). */
  scope: ResolvedScope | null;
  /** Why the scope could not be resolved, when it could not. */
  scopeError?: unknown;
  /**
   * Whether to show the endpoint: it is not production, it comes from the environment, or
   * several servers are known.
   */
  showEndpoint: boolean;
}

/** Options of {@link whoami}. */
export interface WhoamiOptions {
  /** Load the stored login (credential store included) instead of reading the config only. */
  loadLogin?: boolean;
  /** Receives warnings meant for the person (e.g. the keychain fallback), one line each. */
  warn?: (message: string) => void;
}

/**
 * Who commands framed by `inputs` run as. Throws the "not logged in" error when there is neither
 * a login nor an environment credential; a scope that cannot be resolved is reported in
 * {@link Whoami.scopeError}, not thrown.
 */
export async function whoami(inputs: ScopeInputs, options: WhoamiOptions = {}): Promise<Whoami> {
  const env = inputs.env;
  let config = await loadConfig();
  const envCredential = environmentCredential(env);

  let scope: ResolvedScope | undefined;
  let scopeError: unknown;
  try {
    scope = resolveScope(config, inputs);
  } catch (err) {
    // No login on the server DATUM_ENDPOINT names: there is nobody to report.
    if (err instanceof CliError && err.code === "NO_LOGIN_FOR_ENDPOINT") throw err;
    scopeError = err;
  }

  let auth: AuthContext | undefined;
  let session: Session | undefined;
  if (options.loadLogin) {
    auth = await resolveAuthContext({ session: scope?.sessionName, env, warn: options.warn });
  } else {
    session = scope?.sessionName
      ? config.sessions.find((s) => s.name === scope!.sessionName)
      : sessionForEndpoint(config, env) ?? activeSession(config);
    if (!session && !envCredential && config.sessions.length === 0) {
      // A login made by pre-config datumctl: adopt it once (this reads the credential store).
      session = await bootstrapLegacySession(new CredentialStore({ env }));
      config = await loadConfig();
    }
    if (!session && !envCredential) throw notLoggedIn();
    if (envCredential) auth = await resolveAuthContext({ env, session: session?.name });
  }

  let credentials: WhoamiCredentials;
  if (envCredential) {
    credentials = envCredential.kind === "DATUM_TOKEN"
      ? { source: "DATUM_TOKEN" }
      : { source: "DATUM_CREDENTIALS", path: envCredential.path };
  } else {
    const storage = await storageKindHint(env);
    const source = auth?.kind === "service-account" ? "service-account" : "session";
    credentials = storage === "file"
      ? { source, storage, path: credentialsFilePath(env) }
      : { source, storage };
  }

  const overrides: string[] = [];
  if (envCredential?.kind === "DATUM_TOKEN") overrides.push("DATUM_TOKEN");
  if (envCredential?.kind === "DATUM_CREDENTIALS") {
    overrides.push(`DATUM_CREDENTIALS=${envCredential.path}`);
  }
  if (scope?.endpointOverride) overrides.push(scope.endpointOverride);
  if (scope?.override) overrides.push(scope.override);

  return {
    user: auth
      ? {
        email: auth.identity.email,
        name: auth.identity.name ?? null,
        subject: auth.identity.subject || null,
      }
      : { email: session!["user-email"], name: session!["user-name"] ?? null, subject: null },
    session: auth ? auth.sessionName ?? null : session!.name,
    endpoint: auth ? auth.apiBase : session!.endpoint.server,
    context: scope?.contextName && scope.sessionName
      ? scope.contextName.slice(scope.sessionName.length + 1)
      : null,
    organization: scope?.organizationId
      ? { id: scope.organizationId, displayName: scope.organizationDisplayName ?? null }
      : null,
    project: scope?.projectId
      ? { id: scope.projectId, displayName: scope.projectDisplayName ?? null }
      : null,
    credentials,
    overrides,
    scope: scope ?? null,
    scopeError,
    showEndpoint: !!envCredential || hasMultipleEndpoints(config) ||
      hostOf(auth ? auth.apiBase : session!.endpoint.server) !== PRODUCTION.apiHost,
  };
}
