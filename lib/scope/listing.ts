/**
 * The contexts a login can work in, kept fresh: re-discovered from the API when asked, when the
 * cache is older than an hour, or when `ctx use` names a context the cache does not know yet.
 * One implementation for `datumctl ctx` and the MCP `list_contexts` tool.
 *
 * The login code is imported only when a refresh actually runs, so `ctx` from the cache stays
 * light.
 */
import { loadConfig } from "../store/config.ts";
import { configPath } from "../store/paths.ts";
import { activeSession, notLoggedIn } from "../auth/sessions.ts";
import { environmentCredential } from "../auth/environment-credential.ts";
import { CliError } from "../core/errors.ts";
import { type ContextView, contextViews } from "./contexts.ts";
import { cacheIsStale, refreshSessionContexts } from "./discovery.ts";
import { useContext } from "./select.ts";

/** Where a refresh reads the environment and sends warnings meant for the person. */
export interface RefreshOptions {
  env: (name: string) => string | undefined;
  warn?: (message: string) => void;
}

/**
 * Re-discovers the contexts of `sessions` with each session's stored login. With `lenient`, a
 * session that fails is reported through `warn` and the others still refresh; otherwise the
 * first failure is thrown.
 */
export async function refreshContexts(
  sessions: string[],
  options: RefreshOptions & { lenient?: boolean },
): Promise<void> {
  const { resolveAuthContext } = await import("../auth/resolve.ts");
  for (const session of sessions) {
    try {
      const auth = await resolveAuthContext({
        session,
        ignoreEnvironment: true,
        env: options.env,
        warn: options.warn,
      });
      await refreshSessionContexts(auth);
    } catch (err) {
      if (!options.lenient) throw err;
      const why = err instanceof Error ? err.message : String(err);
      options.warn?.(
        `could not refresh the contexts of ${session} (${why}); showing the cached list`,
      );
    }
  }
}

/** What {@link contextListing} found: the contexts and the sessions they were listed for. */
export interface ContextListing {
  views: ContextView[];
  sessions: string[];
}

/**
 * The contexts of the active login (every login with `all`). `refresh` re-discovers them and
 * fails if that fails; a stale cache is refreshed too, but a failure then only warns and the
 * cached list is returned.
 */
export async function contextListing(
  options: RefreshOptions & { all?: boolean; refresh?: boolean },
): Promise<ContextListing> {
  if (!options.all && environmentCredential(options.env)) return await environmentListing(options);
  // The caller's environment decides whose HOME (an in-process test has its own).
  let config = await loadConfig(configPath(options.env));
  const active = activeSession(config)?.name;
  const sessions = options.all ? config.sessions.map((s) => s.name) : active ? [active] : [];
  if (sessions.length === 0) throw notLoggedIn();
  if (options.refresh || cacheIsStale(config)) {
    await refreshContexts(sessions, { ...options, lenient: !options.refresh });
    config = await loadConfig(configPath(options.env));
  }
  return { views: contextViews(config, sessions), sessions };
}

/**
 * The contexts of `DATUM_TOKEN` / `DATUM_CREDENTIALS`, discovered live: there is no session to
 * keep them in, so nothing is stored (use `--project` / `--organization` with them).
 */
async function environmentListing(options: RefreshOptions): Promise<ContextListing> {
  const [{ resolveAuthContext }, { discoverOrganizations }] = await Promise.all([
    import("../auth/resolve.ts"),
    import("./discovery.ts"),
  ]);
  const auth = await resolveAuthContext({ env: options.env, warn: options.warn });
  const organizations = await discoverOrganizations(auth);
  const session = auth.kind;
  const endpoint = new URL(auth.apiBase).host;
  const views: ContextView[] = [];
  for (const org of organizations) {
    const organization = { id: org.id, displayName: org.displayName };
    const base = { session, email: auth.identity.email, endpoint, organization, current: false };
    views.push({ ...base, name: `${session}/${org.id}`, ref: org.id, type: "organization" });
    for (const project of org.projects) {
      views.push({
        ...base,
        name: `${session}/${org.id}/${project.id}`,
        ref: `${org.id}/${project.id}`,
        type: "project",
        project: { id: project.id, displayName: project.displayName },
      });
    }
  }
  return { views, sessions: [session] };
}

/** The contexts of the active login to choose from (for the `ctx use` picker); never empty. */
export async function choosableContexts(): Promise<ContextView[]> {
  const config = await loadConfig();
  const active = activeSession(config)?.name;
  if (!active) throw notLoggedIn();
  const views = contextViews(config, [active]);
  if (views.length === 0) {
    throw new CliError("NO_CONTEXTS", "There are no contexts to choose from.", {
      hint: "Run 'datumctl ctx --refresh' after joining an organization.",
    });
  }
  return views;
}

/**
 * Makes `ref` the current context (`useContext`). A ref the cache does not know, when the cache
 * is stale, may be a project created since the last discovery: the cache is refreshed once and
 * the ref tried again (the original error stands if the refresh fails).
 */
export async function useContextRefreshing(
  ref: string,
  options: RefreshOptions,
): Promise<ContextView> {
  const path = configPath(options.env);
  try {
    return await useContext(ref, { configPath: path });
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== "CONTEXT_NOT_FOUND") throw err;
    const config = await loadConfig(path);
    const active = activeSession(config)?.name;
    if (!active || !cacheIsStale(config)) throw err;
    await refreshContexts([active], options).catch(() => {
      throw err;
    });
    return await useContext(ref, { configPath: path });
  }
}
