/**
 * What `login` does once credentials are stored: discover the
 * user's organizations and projects, save them as contexts, then choose the current context —
 * from `--project`/`--organization`, automatically when there is only one, with a picker on a
 * TTY, or not at all (a hint to run `datumctl ctx use`) without one. The chosen organization must
 * have finished onboarding before it becomes current.
 */
import type { AuthContext } from "../auth/token-source.ts";
import { CliError, UsageError } from "../core/errors.ts";
import type { IO } from "../core/io.ts";
import { loadConfig, updateConfig } from "../store/config.ts";
import { type ContextView, contextView, contextViews, matchContextRef } from "./contexts.ts";
import { applyDiscovery, contextName, discoverOrganizations } from "./discovery.ts";
import { assertOnboarded, noOrganizationNotice } from "./onboarding.ts";
import { setCurrentContext } from "./select.ts";
import type { ApiClient } from "../api/client.ts";

/** Options of {@link selectContextAfterLogin}. */
export interface LoginContextOptions {
  /** The login just stored; `sessionName` must name its config session. */
  auth: AuthContext;
  /** For the TTY check and the environment (portal override). */
  io: IO;
  /**
   * Asks which context to make current (a TTY picker; only called on a TTY) and returns the
   * chosen context's stored name.
   */
  pick: (views: ContextView[]) => Promise<string>;
  /** `login --project ID` (an id or `org/project`): choose it without asking. */
  project?: string;
  /** `login --organization ID`: choose it without asking. */
  organization?: string;
  /**
   * Called after discovery is saved and before any picker, so the command can print
   * "You have access to N organizations" (`renderAccessSummary`) above the picker.
   */
  onDiscovered?: (summary: AccessSummary) => void;
  configPath?: string;
  /** For tests: a client with other retry settings. */
  client?: ApiClient;
}

/** Organizations and their project counts, as login reports them. */
export interface AccessSummary {
  organizations: { id: string; displayName: string; projectCount: number }[];
}

/** What happened after login. */
export interface LoginContextResult {
  /** The organizations and project counts found; unset when discovery failed. */
  summary?: AccessSummary;
  /** The context made current, if any. */
  selected?: ContextView;
  /** Why no context was selected (no TTY and several choices): a line for the user. */
  hint?: string;
  /** The login stands but there is nothing to select (no organization): a line for the user. */
  notice?: string;
  /** Discovery failed: the login stands, contexts were not updated. One line for stderr. */
  warning?: string;
}

/**
 * Discovers contexts for the fresh login and selects one. A user with no organization gets a
 * {@link LoginContextResult.notice} (the login stands). Throws (after the session and its
 * contexts are saved) when `--project`/`--organization` names nothing, or when the chosen
 * organization has not finished onboarding — the current context is then left unset. Ctrl-C in
 * the picker throws what `pick` throws (an `InterruptedError`, exit 130).
 */
export async function selectContextAfterLogin(
  options: LoginContextOptions,
): Promise<LoginContextResult> {
  const { auth, io } = options;
  const session = auth.sessionName;
  if (!session) throw new Error("selectContextAfterLogin needs a login with a session name");
  const env = (name: string) => io.env(name);
  if (options.project && options.organization) {
    throw new UsageError("--project and --organization cannot both be set", "Give one of them.");
  }

  let organizations;
  try {
    organizations = await discoverOrganizations(auth, { client: options.client });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      warning: `could not list your organizations and projects: ${message}`,
      hint: "Run 'datumctl ctx --refresh' later, then 'datumctl ctx use'.",
    };
  }
  await updateConfig((config) => {
    // The session row is the auth side's to write; contexts are ours.
    applyDiscovery(config, session, organizations);
  }, options.configPath);

  const summary: AccessSummary = {
    organizations: organizations.map((o) => ({
      id: o.id,
      displayName: o.displayName,
      projectCount: o.projects.length,
    })),
  };
  if (organizations.length === 0) {
    const { message, hint } = noOrganizationNotice(auth.apiBase, env);
    return { summary, notice: message, hint };
  }
  options.onDiscovered?.(summary);

  const config = await loadConfig(options.configPath);
  const views = contextViews(config, [session]);
  let chosen: string | undefined;
  if (options.project || options.organization) {
    const ref = options.project ?? options.organization!;
    const match = matchContextRef(config, session, ref);
    const ok = match.kind === "found" &&
      (options.project ? !!match.context["project-id"] : !match.context["project-id"]);
    if (!ok) {
      const what = options.project ? "project" : "organization";
      throw new CliError(
        "CONTEXT_NOT_FOUND",
        `You are signed in, but ${auth.identity.email} has no ${what} "${ref}".`,
        { hint: "Run 'datumctl ctx' to list what you can use, then 'datumctl ctx use'." },
      );
    }
    chosen = (match as { context: { name: string } }).context.name;
  } else if (views.length === 1) {
    chosen = views[0].name;
  } else if (io.stdinIsTTY) {
    chosen = await options.pick(views);
  } else {
    return {
      summary,
      hint:
        "No context selected (no terminal to ask). Run 'datumctl ctx use ORG/PROJECT' to pick one.",
    };
  }

  const picked = views.find((v) => v.name === chosen) ??
    views.find((v) => v.name === contextName(session, chosen!));
  if (!picked) throw new Error(`context ${chosen} vanished`);
  await assertOnboarded(auth, picked.organization.id, { env, client: options.client });

  const selected = await updateConfig((latest) => {
    const record = latest.contexts.find((c) => c.name === picked.name);
    if (!record) {
      throw new CliError("CONTEXT_NOT_FOUND", `Context "${picked.ref}" disappeared meanwhile.`, {
        hint: "Run 'datumctl ctx use' to pick one.",
      });
    }
    setCurrentContext(latest, record);
    return contextView(latest, record);
  }, options.configPath);
  return { summary, selected };
}
