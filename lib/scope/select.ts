/**
 * Choosing the current context (`ctx use`, the login picker): resolve a ref in the active
 * session and store it as `current-context`, `active-session` and the session's `last-context`.
 * Resolving is pure (its errors name another session's owner and the `auth switch` that reaches
 * it); storing is one locked, atomic config write.
 */
import { type DatumctlConfig, updateConfig } from "../store/config.ts";
import { CliError } from "../core/errors.ts";
import { editDistance } from "../edit-distance.ts";
import { activeSession, notLoggedIn } from "../auth/sessions.ts";
import {
  type ContextView,
  contextView,
  findContextAnywhere,
  findSession,
  matchContextRef,
} from "./contexts.ts";

type ContextRecord = DatumctlConfig["contexts"][number];

/**
 * Resolves `ref` among the active session's contexts. A ref that only another session knows
 * fails with that session's email and the `auth switch` to run; an ambiguous ref fails listing
 * the candidates.
 */
export function resolveContextForUse(config: DatumctlConfig, ref: string): ContextRecord {
  const session = activeSession(config)?.name;
  if (!session) {
    const elsewhere = findContextAnywhere(config, ref);
    if (!elsewhere) throw notLoggedIn();
    throw otherSessionError(config, ref, elsewhere);
  }
  const match = matchContextRef(config, session, ref);
  if (match.kind === "found") return match.context;
  if (match.kind === "ambiguous") {
    throw new CliError(
      "CONTEXT_AMBIGUOUS",
      `Context "${ref}" matches more than one context: ${
        match.candidates.map((c) => contextView(config, c).ref).join(", ")
      }.`,
      { hint: "Use org/project ids to pick one (see 'datumctl ctx')." },
    );
  }
  const elsewhere = findContextAnywhere(config, ref, session);
  if (elsewhere) throw otherSessionError(config, ref, elsewhere);
  const near = nearestRef(config, session, ref);
  throw new CliError("CONTEXT_NOT_FOUND", `Context "${ref}" not found.`, {
    hint: `${near ? `Did you mean "${near}"? ` : ""}` +
      "Run 'datumctl ctx' to list contexts, or 'datumctl ctx --refresh' if it is new.",
  });
}

/** The session's context ref (or its project / organization part) closest to a mistyped one. */
function nearestRef(config: DatumctlConfig, session: string, typed: string): string | undefined {
  const word = typed.toLowerCase();
  let best: { ref: string; distance: number } | undefined;
  for (const context of config.contexts.filter((c) => c.session === session)) {
    const view = contextView(config, context);
    const names = [view.ref, view.project?.id, view.organization.id, view.project?.displayName]
      .filter((n): n is string => !!n);
    for (const name of names) {
      const distance = editDistance(word, name.toLowerCase());
      if (!best || distance < best.distance) best = { ref: view.ref, distance };
    }
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.ref : undefined;
}

function otherSessionError(config: DatumctlConfig, ref: string, context: ContextRecord): CliError {
  const email = findSession(config, context.session)?.["user-email"] ?? context.session;
  return new CliError(
    "CONTEXT_OTHER_SESSION",
    `Context "${ref}" belongs to the session for ${email}, which is not active.`,
    { hint: `Run 'datumctl auth switch ${email}' first, then 'datumctl ctx use ${ref}'.` },
  );
}

/** Marks `context` current in `config` (current-context, active-session, last-context). */
export function setCurrentContext(config: DatumctlConfig, context: ContextRecord): void {
  config["current-context"] = context.name;
  config["active-session"] = context.session;
  const session = findSession(config, context.session);
  if (session) session["last-context"] = context.name;
}

/**
 * Makes `ref` the current context, resolving it against the freshest config under the lock so
 * concurrent writers never lose updates. Returns the chosen context's view.
 */
export async function useContext(
  ref: string,
  options: { configPath?: string } = {},
): Promise<ContextView> {
  return await updateConfig((config) => {
    const context = resolveContextForUse(config, ref);
    setCurrentContext(config, context);
    return contextView(config, context);
  }, options.configPath);
}
