/**
 * What bare `datumctl` shows: who is logged in, where commands will run, and how much they can
 * reach — read from the config alone, so it costs no network and loads no heavy library.
 */
import type { DatumctlConfig } from "../store/config.ts";
import { activeSession } from "../auth/sessions.ts";
import { type ContextView, contextViews } from "./contexts.ts";

/** The landing page's data. */
export interface LandingSummary {
  loggedIn: boolean;
  user?: { email: string; name?: string };
  /** The current context, when one is set for the active session. */
  context?: ContextView;
  organizations: number;
  projects: number;
  /** When discovery last ran (RFC 3339), if ever. */
  lastRefreshed?: string;
}

/** Summarises the active session from the config. */
export function landingSummary(config: DatumctlConfig): LandingSummary {
  const session = activeSession(config);
  if (!session) return { loggedIn: false, organizations: 0, projects: 0 };
  const views = contextViews(config, [session.name]);
  return {
    loggedIn: true,
    user: { email: session["user-email"], name: session["user-name"] },
    context: views.find((v) => v.current),
    organizations: views.filter((v) => v.type === "organization").length,
    projects: views.filter((v) => v.type === "project").length,
    lastRefreshed: config.cache["last-refreshed"],
  };
}
