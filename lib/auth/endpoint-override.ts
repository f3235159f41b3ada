/**
 * `DATUM_ENDPOINT` with stored logins, the way gh treats `GH_HOST`: it chooses which stored
 * login commands use — the login on that server — instead of being ignored whenever a login
 * exists. With no login on that server the command fails saying so, rather than quietly using
 * another server. (With `DATUM_TOKEN` or `DATUM_CREDENTIALS` it is simply the API server, see
 * lib/auth/resolve.ts.) An explicit `--context`, `DATUM_CONTEXT` or session still wins.
 */
import type { DatumctlConfig, Session } from "../store/config.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { hostOf } from "./endpoints.ts";
import { activeSession } from "./sessions.ts";

/** `DATUM_ENDPOINT` as it applies to stored logins: unset when an environment credential is in use. */
export function endpointOverride(
  env: (name: string) => string | undefined,
): { value: string; host: string } | undefined {
  if (env("DATUM_TOKEN") || env("DATUM_CREDENTIALS")) return undefined;
  const value = env("DATUM_ENDPOINT")?.trim();
  if (!value) return undefined;
  return { value, host: hostOf(value) };
}

/**
 * The stored login `DATUM_ENDPOINT` selects: `preferred` (the current context's) or the active
 * login when either is on that server, else the first login on it. Undefined when the variable
 * is not in force or there is no stored login at all; throws (exit 77) when no login is on that server.
 */
export function sessionForEndpoint(
  config: DatumctlConfig,
  env: (name: string) => string | undefined,
  preferred?: Session,
): Session | undefined {
  const override = endpointOverride(env);
  // No login at all is "not logged in", said where that is decided.
  if (!override || config.sessions.length === 0) return undefined;
  const onHost = (s: Session | undefined) =>
    !!s && hostOf(s.endpoint?.server ?? "") === override.host;
  if (onHost(preferred)) return preferred;
  const active = activeSession(config);
  if (onHost(active)) return active;
  const found = config.sessions.find(onHost);
  if (found) return found;
  const fallback = preferred ?? active;
  throw new CliError(
    "NO_LOGIN_FOR_ENDPOINT",
    `DATUM_ENDPOINT=${override.value} names ${override.host}, where you have no stored login`,
    {
      hint: `Run 'datumctl login --endpoint ${override.value}'${
        fallback
          ? `, or unset DATUM_ENDPOINT to use your login on ${hostOf(fallback.endpoint.server)}`
          : ""
      }.`,
      exitCode: ExitCode.noPermission,
    },
  );
}
