/**
 * Which context and login are current in a config, as plain lookups: kept apart from the
 * sessions module (keychain, refresh, revocation) so that what only reads the config, such as a
 * TAB's context refs, loads nothing more.
 */
import type { Context, DatumctlConfig, Session } from "./config.ts";

/** The context `current-context` names, if it exists. */
export function currentContext(config: DatumctlConfig): Context | undefined {
  const name = config["current-context"];
  return name ? config.contexts.find((c) => c.name === name) : undefined;
}

/** The active session: the current context's session, else `active-session`. */
export function activeSession(config: DatumctlConfig): Session | undefined {
  const ctx = currentContext(config);
  if (ctx) {
    const owner = config.sessions.find((s) => s.name === ctx.session);
    if (owner) return owner;
  }
  const name = config["active-session"];
  return name ? config.sessions.find((s) => s.name === name) : undefined;
}
