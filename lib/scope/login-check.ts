/**
 * Does a login still work? Asked of its server, as gh's `auth status` does: the token is
 * renewed if it is due, then one authenticated read is made (the user's memberships on their
 * user control plane, or the API's group list for a token without a known subject).
 *
 * A failed check becomes an error that names the user, the server and the login command that
 * recreates the login. `whoami` and `auth status` use it; nothing here prints.
 */
import { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { RESOURCE_MANAGER_GROUP, userControlPlaneUrl } from "../api/urls.ts";
import { loadConfig } from "../store/config.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { hostOf, PRODUCTION } from "../auth/endpoints.ts";
import { environmentCredential, resolveAuthContext } from "../auth/resolve.ts";
import { activeSession } from "../auth/sessions.ts";
import type { AuthContext } from "../auth/token-source.ts";

/**
 * What the server said about a login:
 * - `ok`: it answered an authenticated request;
 * - `expired`: the token ran out and could not be renewed (the refresh token or key is no
 *   longer accepted, or the stored credentials are gone);
 * - `revoked`: the server rejected a token that had not expired (signed out elsewhere, revoked);
 * - `unreachable`: no answer (network, DNS, 5xx, timeout): the login may still be fine;
 * - `invalid`: the credential cannot be used as it is (a broken key file or stored login).
 */
export type LoginStatus = "ok" | "expired" | "revoked" | "unreachable" | "invalid";

/** The outcome of checking one login. */
export interface LoginCheck {
  status: LoginStatus;
  /** Why it is not `ok`: the underlying error's message. */
  message?: string;
  /** The underlying error, for its hint and exit code. */
  error?: CliError;
}

/** One login of {@link checkAllLogins} with its check. */
export interface CheckedLogin extends LoginCheck {
  /** The config session; null for an environment credential. */
  session: string | null;
  user: { email: string; name: string | null; subject: string | null };
  /** API server URL. */
  endpoint: string;
  /** Whether commands use this login now. */
  active: boolean;
  /** `session`, `service-account`, or the environment variable that supplies it. */
  kind: string;
}

function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  return new CliError("LOGIN_CHECK_FAILED", err instanceof Error ? err.message : String(err));
}

function failed(status: LoginStatus, err: unknown): LoginCheck {
  const error = asCliError(err);
  return { status, message: error.message, error };
}

function isUnreachable(err: CliError): boolean {
  return err.retryable || err.exitCode === ExitCode.unavailable ||
    err.exitCode === ExitCode.tempFail;
}

/**
 * Checks `auth` against its server (about one request; at most a few seconds when the server
 * does not answer). Never throws for a failing login: the failure is the result.
 */
export async function checkLogin(
  auth: AuthContext,
  options: { timeoutMs?: number } = {},
): Promise<LoginCheck> {
  try {
    await auth.tokens.accessToken();
  } catch (err) {
    const error = asCliError(err);
    if (isUnreachable(error)) return failed("unreachable", error);
    return failed(error.exitCode === ExitCode.noPermission ? "expired" : "invalid", error);
  }
  const client = new ApiClient({
    auth,
    baseUrl: auth.apiBase,
    retry: { attempts: 2, initialDelayMs: 250, maxDelayMs: 1000 },
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  try {
    if (auth.identity.subject) {
      await client.withBase(userControlPlaneUrl(auth.apiBase, auth.identity.subject)).get(
        `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizationmemberships`,
        { query: { limit: 1 } },
      );
    } else {
      await client.get("/apis");
    }
    return { status: "ok" };
  } catch (err) {
    const error = asCliError(err);
    // Authenticated but not allowed to read this: the token itself was accepted.
    if (error instanceof ApiError && error.httpStatus === 403) return { status: "ok" };
    if (isUnreachable(error)) return failed("unreachable", error);
    if (error.exitCode === ExitCode.noPermission) {
      // A token past its expiry that cannot be renewed (DATUM_TOKEN) has expired; one that was
      // just renewed (or still valid) and is refused, or whose forced renewal after the refusal
      // failed too, was revoked at the server.
      const expiry = await auth.tokens.expiry().catch(() => undefined);
      return failed(expiry && expiry.getTime() <= Date.now() ? "expired" : "revoked", error);
    }
    return failed("invalid", error);
  }
}

/** The `datumctl login …` that recreates a login: the one its error names, else by endpoint. */
export function loginCommandOf(check: LoginCheck, endpoint: string): string {
  const named = check.error?.hint?.match(/'(datumctl login[^']*)'/)?.[1];
  if (named) return named;
  return hostOf(endpoint) === PRODUCTION.apiHost
    ? "datumctl login"
    : `datumctl login --endpoint ${endpoint}`;
}

/**
 * The error a command fails with when its login does not pass {@link checkLogin}: exit 77 for
 * a login that is gone, 69 when the server cannot be reached, naming the user and the server.
 */
export function loginCheckError(
  check: LoginCheck,
  who: { email: string; endpoint: string; loginCommand?: string },
): CliError {
  const host = hostOf(who.endpoint);
  const again = `Run '${who.loginCommand ?? "datumctl login"}' to sign in again.`;
  switch (check.status) {
    case "expired":
      return new CliError("LOGIN_EXPIRED", `the login of ${who.email} on ${host} has expired`, {
        hint: check.error?.hint ?? again,
        exitCode: ExitCode.noPermission,
        cause: check.error,
      });
    case "revoked":
      return new CliError(
        "LOGIN_REVOKED",
        `${host} no longer accepts the login of ${who.email} (it was revoked or signed out)`,
        { hint: again, exitCode: ExitCode.noPermission, cause: check.error },
      );
    case "unreachable":
      return new CliError(
        "LOGIN_UNCHECKED",
        `cannot reach ${host} to check the login of ${who.email}: ${check.message ?? "no answer"}`,
        {
          hint: "Check your network and the endpoint, then try again.",
          exitCode: ExitCode.unavailable,
          retryable: true,
          cause: check.error,
        },
      );
    default:
      return check.error ??
        new CliError("LOGIN_INVALID", `the login of ${who.email} on ${host} cannot be used`);
  }
}

/**
 * Every login checked against its server, concurrently: each stored session, plus the
 * environment credential (`DATUM_TOKEN` / `DATUM_CREDENTIALS`) first when one is in force (it
 * is then the active one). Throws the "not logged in" error when there is none at all.
 */
export async function checkAllLogins(
  env: (name: string) => string | undefined,
  warn?: (message: string) => void,
): Promise<CheckedLogin[]> {
  const config = await loadConfig();
  const fromEnv = environmentCredential(env);
  const { sessionForEndpoint } = await import("../auth/endpoint-override.ts");
  const activeName = fromEnv
    ? undefined
    : (sessionForEndpoint(config, env) ?? activeSession(config))?.name;

  const jobs: Promise<CheckedLogin>[] = [];
  if (fromEnv) {
    jobs.push((async () => {
      let auth: AuthContext;
      try {
        auth = await resolveAuthContext({ env, warn });
      } catch (err) {
        return {
          ...failed("invalid", err),
          session: null,
          user: { email: "", name: null, subject: null },
          endpoint: env("DATUM_ENDPOINT") ?? "",
          active: true,
          kind: fromEnv.kind,
        };
      }
      return {
        ...await checkLogin(auth),
        session: null,
        user: userOf(auth),
        endpoint: auth.apiBase,
        active: true,
        kind: fromEnv.kind,
      };
    })());
  }
  for (const session of config.sessions) {
    jobs.push((async () => {
      const base = {
        session: session.name,
        endpoint: session.endpoint.server,
        active: session.name === activeName,
      };
      let auth: AuthContext;
      try {
        auth = await resolveAuthContext({
          session: session.name,
          env,
          warn,
          ignoreEnvironment: true,
        });
      } catch (err) {
        const error = asCliError(err);
        return {
          ...base,
          ...failed(error.exitCode === ExitCode.noPermission ? "expired" : "invalid", error),
          user: {
            email: session["user-email"],
            name: session["user-name"] ?? null,
            subject: null,
          },
          kind: "session",
        };
      }
      return { ...base, ...await checkLogin(auth), user: userOf(auth), kind: auth.kind };
    })());
  }
  if (jobs.length === 0) {
    const { notLoggedIn } = await import("../auth/sessions.ts");
    throw notLoggedIn();
  }
  return await Promise.all(jobs);
}

function userOf(auth: AuthContext): CheckedLogin["user"] {
  return {
    email: auth.identity.email,
    name: auth.identity.name ?? null,
    subject: auth.identity.subject || null,
  };
}

/**
 * For `whoami`: loads the login `who` reports (its session, else the environment credential)
 * and checks it; returns its subject when it passes, else throws {@link loginCheckError}.
 */
export async function confirmLogin(
  who: { session: string | null; user: { email: string }; endpoint: string },
  env: (name: string) => string | undefined,
  warn?: (message: string) => void,
): Promise<{ subject: string | null }> {
  const auth = await resolveAuthContext({ session: who.session ?? undefined, env, warn });
  const check = await checkLogin(auth);
  if (check.status !== "ok") {
    throw loginCheckError(check, {
      email: who.user.email || auth.identity.email,
      endpoint: who.endpoint,
      loginCommand: loginCommandOf(check, who.endpoint),
    });
  }
  return { subject: auth.identity.subject || null };
}
