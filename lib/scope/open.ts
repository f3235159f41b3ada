/**
 * The one call a scoped command makes: resolve the scope, get the owning session's login, pass
 * the onboarding gate, and hand back a client for the scope's control plane.
 *
 * How a session name becomes an `AuthContext` is a loader the caller passes; the stored one, backed
 * by `lib/auth`, is here too.
 */
import { ApiClient } from "../api/client.ts";
import type { AuthContext } from "../auth/token-source.ts";
import { type DatumctlConfig, loadConfig } from "../store/config.ts";
import { configPath } from "../store/paths.ts";
import { assertOnboarded } from "./onboarding.ts";
import { controlPlaneUrl, type ResolvedScope, resolveScope, type ScopeInputs } from "./resolve.ts";

/**
 * Turns the session a scope names (undefined: none applies, e.g. `DATUM_TOKEN`) into a login
 * whose token source refreshes on demand.
 */
export type AuthLoader = (
  sessionName: string | undefined,
  config?: DatumctlConfig,
) => Promise<AuthContext>;

/**
 * The standard {@link AuthLoader}: the stored login of the session (or `DATUM_TOKEN` /
 * `DATUM_CREDENTIALS` when set), via `lib/auth`, loaded only when called.
 */
export function storedAuthLoader(
  env: (name: string) => string | undefined,
  warn?: (message: string) => void,
): AuthLoader {
  return async (session, config) => {
    const { resolveAuthContext } = await import("../auth/resolve.ts");
    return await resolveAuthContext({ session, env, warn, config });
  };
}

/** A scope ready to use. */
export interface OpenedScope {
  scope: ResolvedScope;
  auth: AuthContext;
  /** The scope's control-plane base URL. */
  controlPlane: string;
  /** A client for that control plane (use `client.withBase` for the user CP or platform). */
  client: ApiClient;
}

/** Options of {@link openScope}. */
export interface OpenScopeOptions {
  /** `--project`, `--organization`, `--context` and the environment. */
  inputs: ScopeInputs;
  /** Default: {@link storedAuthLoader} over `inputs.env`. */
  loadAuth?: AuthLoader;
  /** Run the onboarding gate for org/project scopes (default true). */
  onboarding?: boolean;
  configPath?: string;
}

/**
 * Resolves the scope (flag → env → context → current context → error), loads the login of the
 * session that owns it, checks onboarding of the scope's organization when it is known (a
 * `--project` the cache does not know skips it, as datumctl does), and returns a client.
 */
export async function openScope(options: OpenScopeOptions): Promise<OpenedScope> {
  const config = await loadConfig(options.configPath ?? configPath(options.inputs.env));
  const scope = resolveScope(config, options.inputs);
  const loadAuth = options.loadAuth ?? storedAuthLoader(options.inputs.env);
  // The config just read goes along, so the login's resolution does not read it again.
  const auth = await loadAuth(scope.sessionName, config);
  const controlPlane = controlPlaneUrl(scope, auth.apiBase, auth.identity.subject);
  const client = new ApiClient({ auth, baseUrl: controlPlane });
  if (options.onboarding !== false && scope.organizationId && scope.kind !== "user") {
    await assertOnboarded(auth, scope.organizationId, {
      env: options.inputs.env,
      client,
    });
  }
  return { scope, auth, controlPlane, client };
}
