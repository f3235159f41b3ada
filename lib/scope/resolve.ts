/**
 * The one scope rule every scoped command uses:
 *
 *   `--project` / `--organization` → `DATUM_PROJECT` / `DATUM_ORGANIZATION` →
 *   `--context NAME` / `DATUM_CONTEXT` → the `project_id` of the `DATUM_CREDENTIALS` key file →
 *   the current context →
 *   `No context set. Run 'datumctl ctx use' to select a project.`
 *
 * Overrides are per invocation: nothing here writes the config. Resolution is pure over the config,
 * and its result says where the scope came from, so `whoami` and commands can report overrides.
 */
import type { DatumctlConfig } from "../store/config.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import {
  apiBaseUrl,
  organizationControlPlaneUrl,
  projectControlPlaneUrl,
  userControlPlaneUrl,
} from "../api/urls.ts";
import {
  findSession,
  matchContextRef,
  organizationDisplayName,
  projectDisplayName,
} from "./contexts.ts";
import { activeSession, notLoggedIn } from "../auth/sessions.ts";
import { keyFileProject } from "./key-file-project.ts";
import { sessionForEndpoint } from "../auth/endpoint-override.ts";

/** Where a scope came from. */
export type ScopeSource =
  | "flag"
  | "env"
  | "context-flag"
  | "context-env"
  | "current-context"
  | "user";

/** A resolved scope: what to address, with whose credentials, and why. */
export interface ResolvedScope {
  kind: "user" | "organization" | "project";
  /** Set for organization scopes, and for project scopes when the org is known. */
  organizationId?: string;
  projectId?: string;
  /** Display names from the discovery cache (the id when unknown). */
  organizationDisplayName?: string;
  projectDisplayName?: string;
  /** The session whose credentials to use; undefined when no session applies (e.g. DATUM_TOKEN). */
  sessionName?: string;
  /** The stored context that supplied or framed the scope, if any. */
  contextName?: string;
  source: ScopeSource;
  /** Why this scope, for people: e.g. `from DATUM_PROJECT`, `from the current context`. */
  reason: string;
  /** The override in effect, e.g. `DATUM_PROJECT=sandbox` or `--project sandbox`; unset for the current context. */
  override?: string;
  /** The session's API base (scheme, no trailing slash), when a session applies. */
  apiBase?: string;
  /** `DATUM_ENDPOINT=…` when that variable chose the login (see lib/auth/endpoint-override.ts). */
  endpointOverride?: string;
}

/** Inputs of {@link resolveScope}: the global flags and the environment. */
export interface ScopeInputs {
  project?: string;
  organization?: string;
  /** `--context NAME`. */
  context?: string;
  /**
   * A stored session to use whatever the context says (a persisted tunnel service names its
   * session); an unknown name is an error naming it.
   */
  session?: string;
  env: (name: string) => string | undefined;
}

/** The exact message when nothing selects a scope. */
export const NO_CONTEXT_MESSAGE = "No context set. Run 'datumctl ctx use' to select a project.";

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/**
 * Resolves the scope of one invocation. Both project and organization at the same level is a
 * usage error; a context name that matches nothing (or several) is an error naming it; with
 * nothing at all the error is {@link NO_CONTEXT_MESSAGE} (exit 1).
 */
export function resolveScope(config: DatumctlConfig, inputs: ScopeInputs): ResolvedScope {
  const flagProject = nonEmpty(inputs.project);
  const flagOrg = nonEmpty(inputs.organization);
  if (flagProject && flagOrg) {
    throw new UsageError(
      "--project and --organization cannot both be set",
      "Give one of them: a project scope or an organization scope.",
    );
  }
  const envProject = nonEmpty(inputs.env("DATUM_PROJECT"));
  const envOrg = nonEmpty(inputs.env("DATUM_ORGANIZATION"));
  if (!flagProject && !flagOrg && envProject && envOrg) {
    throw new UsageError(
      "DATUM_PROJECT and DATUM_ORGANIZATION cannot both be set",
      "Unset one of them.",
    );
  }

  // The context that frames the invocation: an explicit one, else the current one. Its session
  // supplies credentials even when a flag or env var picks the project.
  const flagContext = nonEmpty(inputs.context);
  const envContext = nonEmpty(inputs.env("DATUM_CONTEXT"));
  const explicitRef = flagContext ?? envContext;
  const explicit = explicitRef ? lookupContext(config, explicitRef, !!flagContext) : undefined;
  let currentName = config["current-context"];
  let current = currentName ? config.contexts.find((c) => c.name === currentName) : undefined;
  const pinnedSession = nonEmpty(inputs.session);
  // DATUM_ENDPOINT picks the login on that server (gh's GH_HOST); its last context frames the
  // scope when the current context belongs to a login elsewhere.
  const endpointSession = explicit || pinnedSession ? undefined : sessionForEndpoint(
    config,
    inputs.env,
    current ? findSession(config, current.session) : undefined,
  );
  const endpointNote = endpointSession
    ? `DATUM_ENDPOINT=${inputs.env("DATUM_ENDPOINT")}`
    : undefined;
  if (endpointSession && current?.session !== endpointSession.name) {
    currentName = endpointSession["last-context"];
    current = config.contexts.find((c) =>
      c.name === currentName && c.session === endpointSession.name
    );
    if (!current) currentName = undefined;
  }
  const frame = explicit ?? current;
  if (pinnedSession && !config.sessions.some((s) => s.name === pinnedSession)) {
    throw new CliError("SESSION_NOT_FOUND", `no session named "${pinnedSession}"`, {
      hint: "Run 'datumctl auth list' to see the stored sessions, or 'datumctl login' to add one.",
      exitCode: ExitCode.noPermission,
    });
  }
  const sessionName = pinnedSession ?? frame?.session ?? endpointSession?.name ??
    activeSession(config)?.name;
  const apiBase = sessionApiBase(config, sessionName);

  const base = {
    sessionName,
    apiBase,
    ...(endpointNote ? { endpointOverride: endpointNote } : {}),
  };
  if (flagProject || (!flagOrg && envProject)) {
    const projectId = (flagProject ?? envProject)!;
    const orgId = frame?.["project-id"] === projectId
      ? frame["organization-id"]
      : organizationOfProject(config, projectId, sessionName);
    return {
      ...base,
      kind: "project",
      projectId,
      organizationId: orgId,
      organizationDisplayName: orgId
        ? organizationDisplayName(config, sessionName, orgId)
        : undefined,
      projectDisplayName: projectDisplayName(config, sessionName, projectId),
      contextName: frame?.name,
      source: flagProject ? "flag" : "env",
      reason: flagProject ? "from --project" : "from DATUM_PROJECT",
      override: flagProject ? `--project ${projectId}` : `DATUM_PROJECT=${projectId}`,
    };
  }
  if (flagOrg || envOrg) {
    const orgId = (flagOrg ?? envOrg)!;
    return {
      ...base,
      kind: "organization",
      organizationId: orgId,
      organizationDisplayName: organizationDisplayName(config, sessionName, orgId),
      contextName: frame?.name,
      source: flagOrg ? "flag" : "env",
      reason: flagOrg ? "from --organization" : "from DATUM_ORGANIZATION",
      override: flagOrg ? `--organization ${orgId}` : `DATUM_ORGANIZATION=${orgId}`,
    };
  }
  if (explicit) {
    return {
      ...fromContext(config, explicit),
      source: flagContext ? "context-flag" : "context-env",
      reason: flagContext ? "from --context" : "from DATUM_CONTEXT",
      override: flagContext ? `--context ${flagContext}` : `DATUM_CONTEXT=${envContext}`,
    };
  }
  // A service-account key's own project comes before the current context, which belongs to
  // the stored login rather than to the service account.
  const keyProject = keyFileProject(inputs.env);
  if (keyProject) {
    const orgId = organizationOfProject(config, keyProject, sessionName);
    return {
      ...base,
      kind: "project",
      projectId: keyProject,
      organizationId: orgId,
      organizationDisplayName: orgId
        ? organizationDisplayName(config, sessionName, orgId)
        : undefined,
      projectDisplayName: projectDisplayName(config, sessionName, keyProject),
      source: "env",
      reason: "from the project_id of the DATUM_CREDENTIALS key file",
      override: `DATUM_CREDENTIALS project_id=${keyProject}`,
    };
  }
  if (current) {
    return {
      ...fromContext(config, current),
      ...(endpointNote ? { endpointOverride: endpointNote } : {}),
      source: "current-context",
      reason: "from the current context",
    };
  }
  if (currentName) {
    throw new CliError(
      "CONTEXT_NOT_FOUND",
      `The current context "${currentName}" no longer exists.`,
      { hint: "Run 'datumctl ctx use' to select a project.", exitCode: ExitCode.error },
    );
  }
  // Nobody to act as: say so (77), rather than that a context is missing.
  if (
    config.sessions.length === 0 && !inputs.env("DATUM_TOKEN") && !inputs.env("DATUM_CREDENTIALS")
  ) {
    throw notLoggedIn();
  }
  throw new CliError("NO_CONTEXT", NO_CONTEXT_MESSAGE, {
    hint: "Or pass --project ID (or set DATUM_PROJECT) for one command.",
    exitCode: ExitCode.error,
  });
}

type ContextRecord = DatumctlConfig["contexts"][number];

function fromContext(
  config: DatumctlConfig,
  context: ContextRecord,
): Omit<ResolvedScope, "source" | "reason"> {
  const orgId = context["organization-id"];
  const projectId = context["project-id"];
  return {
    kind: projectId ? "project" : "organization",
    organizationId: orgId,
    projectId,
    organizationDisplayName: orgId
      ? organizationDisplayName(config, context.session, orgId)
      : undefined,
    projectDisplayName: projectId
      ? projectDisplayName(config, context.session, projectId)
      : undefined,
    sessionName: context.session,
    contextName: context.name,
    apiBase: sessionApiBase(config, context.session),
  };
}

/**
 * Finds the context `--context`/`DATUM_CONTEXT` names: a full stored name, else a ref in the active
 * session, else a ref that resolves in exactly one other session.
 */
function lookupContext(config: DatumctlConfig, ref: string, fromFlag: boolean): ContextRecord {
  const where = fromFlag ? "--context" : "DATUM_CONTEXT";
  const byName = config.contexts.find((c) => c.name === ref);
  if (byName) return byName;
  const active = activeSession(config)?.name;
  if (active) {
    const match = matchContextRef(config, active, ref);
    if (match.kind === "found") return match.context;
    if (match.kind === "ambiguous") throw ambiguous(ref, where, match.candidates);
  }
  const elsewhere = config.sessions
    .filter((s) => s.name !== active)
    .map((s) => matchContextRef(config, s.name, ref))
    .filter((m) => m.kind === "found")
    .map((m) => (m as { context: ContextRecord }).context);
  if (elsewhere.length === 1) return elsewhere[0];
  if (elsewhere.length > 1) throw ambiguous(ref, where, elsewhere);
  throw new CliError("CONTEXT_NOT_FOUND", `Context "${ref}" (${where}) not found.`, {
    hint: "Run 'datumctl ctx --all' to list contexts, or 'datumctl ctx --refresh' if it is new.",
  });
}

function ambiguous(ref: string, where: string, candidates: ContextRecord[]): CliError {
  return new CliError(
    "CONTEXT_AMBIGUOUS",
    `Context "${ref}" (${where}) matches more than one context: ${
      candidates.map((c) => c.name).join(", ")
    }.`,
    { hint: "Use the full name or org/project to pick one." },
  );
}

/** The org of a project from the discovery cache, preferring the given session's entries. */
export function organizationOfProject(
  config: DatumctlConfig,
  projectId: string,
  session?: string,
): string | undefined {
  const all = config.cache.projects.filter((p) => p.id === projectId);
  const hit = all.find((p) => p.session === session) ?? all[0];
  if (hit) return hit["org-id"];
  const ctx = config.contexts.find((c) =>
    c["project-id"] === projectId && (!session || c.session === session)
  );
  return ctx?.["organization-id"];
}

function sessionApiBase(config: DatumctlConfig, session: string | undefined): string | undefined {
  const server = findSession(config, session)?.endpoint?.server;
  return server ? apiBaseUrl(server) : undefined;
}

/** The scope of the user control plane (e.g. `get organizations`), which no flag changes. */
export function userScope(sessionName?: string, apiBase?: string): ResolvedScope {
  return {
    kind: "user",
    sessionName,
    apiBase,
    source: "user",
    reason: "the user control plane",
  };
}

/**
 * The control-plane base URL of a scope. `apiBase` and `subject` come from the login used
 * (`AuthContext`); the subject is needed only for the user scope.
 */
export function controlPlaneUrl(scope: ResolvedScope, apiBase: string, subject?: string): string {
  if (scope.kind === "project") return projectControlPlaneUrl(apiBase, scope.projectId!);
  if (scope.kind === "organization") {
    return organizationControlPlaneUrl(apiBase, scope.organizationId!);
  }
  if (!subject) throw new Error("the user control plane needs the login's subject");
  return userControlPlaneUrl(apiBase, subject);
}
