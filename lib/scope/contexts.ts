/**
 * Reading contexts out of the config: which session is active, what each context is called
 * (display names from the discovery cache), and what a ref the user typed points at.
 *
 * Everything here is pure over a {@link DatumctlConfig}, so `ctx`, the scope resolver, the login
 * picker and `whoami` agree on names and matching; the view of a context is also what `ctx -o json`
 * prints.
 */
import type { Context, DatumctlConfig, Session } from "../store/config.ts";
import { apiHost } from "../api/urls.ts";
import { activeSession } from "../store/active-session.ts";

/** One context as people see it: ids, display names, type and whether it is current. */
export interface ContextView {
  /** The stored name, `<session>/<org>[/<project>]`. */
  name: string;
  /** What users type: `<org>` or `<org>/<project>`. */
  ref: string;
  type: "organization" | "project";
  session: string;
  email?: string;
  /** API host of the session, e.g. `api.datum.net`. */
  endpoint?: string;
  organization: { id: string; displayName: string };
  project?: { id: string; displayName: string };
  current: boolean;
}

/** The session record by name. */
export function findSession(config: DatumctlConfig, name: string | undefined): Session | undefined {
  return name ? config.sessions.find((s) => s.name === name) : undefined;
}

/** `org` or `org/project` for a stored context. */
export function contextRef(context: Context): string {
  const org = context["organization-id"] ?? "";
  return context["project-id"] ? `${org}/${context["project-id"]}` : org;
}

/** A cached display name: the session's entry for `id`, else any session's, else the id. */
function cachedDisplayName(
  entries: { id: string; session?: string; "display-name"?: string }[],
  session: string | undefined,
  id: string,
): string {
  const all = entries.filter((e) => e.id === id);
  const hit = all.find((e) => e.session === session) ?? all[0];
  return hit?.["display-name"] || id;
}

/** The cached display name of an organization, else its id. */
export function organizationDisplayName(
  config: DatumctlConfig,
  session: string | undefined,
  orgId: string,
): string {
  return cachedDisplayName(config.cache.organizations, session, orgId);
}

/** The cached display name of a project, else its id. */
export function projectDisplayName(
  config: DatumctlConfig,
  session: string | undefined,
  projectId: string,
): string {
  return cachedDisplayName(config.cache.projects, session, projectId);
}

/** Builds the view of one stored context. */
export function contextView(config: DatumctlConfig, context: Context): ContextView {
  const session = findSession(config, context.session);
  const orgId = context["organization-id"] ?? "";
  const projectId = context["project-id"];
  return {
    name: context.name,
    ref: contextRef(context),
    type: projectId ? "project" : "organization",
    session: context.session,
    email: session?.["user-email"],
    endpoint: session ? apiHost(session.endpoint.server) : undefined,
    organization: {
      id: orgId,
      displayName: organizationDisplayName(config, context.session, orgId),
    },
    project: projectId
      ? { id: projectId, displayName: projectDisplayName(config, context.session, projectId) }
      : undefined,
    current: config["current-context"] === context.name,
  };
}

/**
 * Views of the contexts of `sessions` (all sessions when omitted), each organization followed
 * by its projects, sorted by id; sessions keep their config order with the active one first.
 */
export function contextViews(config: DatumctlConfig, sessions?: string[]): ContextView[] {
  const active = activeSession(config)?.name;
  const order = (sessions ?? config.sessions.map((s) => s.name)).slice().sort((a, b) =>
    a === active ? -1 : b === active ? 1 : 0
  );
  const views: ContextView[] = [];
  for (const session of order) {
    const own = config.contexts.filter((c) => c.session === session).map((c) =>
      contextView(config, c)
    );
    own.sort((a, b) =>
      byCodeUnit(a.organization.id, b.organization.id) ||
      (a.project ? 1 : 0) - (b.project ? 1 : 0) ||
      byCodeUnit(a.project?.id ?? "", b.project?.id ?? "")
    );
    views.push(...own);
  }
  return views;
}

/**
 * Orders ids (lower-case DNS labels, where this is the order localeCompare gives) without
 * localeCompare, whose collation tables cost `datumctl ctx` a tenth of its memory to load.
 */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a ref resolved to. */
export type RefMatch =
  | { kind: "found"; context: Context }
  | { kind: "ambiguous"; candidates: Context[] }
  | { kind: "none" };

function sameText(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: "accent" }) === 0;
}

function unique(candidates: Context[]): RefMatch | undefined {
  if (candidates.length === 1) return { kind: "found", context: candidates[0] };
  if (candidates.length > 1) return { kind: "ambiguous", candidates };
  return undefined;
}

/**
 * Resolves a ref among one session's contexts, in datumctl's order: exact
 * stored name → `org/project` ids → org id → unique project id → `OrgDisplay/ProjectDisplay` →
 * unique organization display name, then project display name. An ambiguous step stops the
 * search (ambiguous is reported, never guessed).
 */
export function matchContextRef(config: DatumctlConfig, session: string, ref: string): RefMatch {
  const own = config.contexts.filter((c) => c.session === session);
  const exact = own.find((c) => c.name === ref);
  if (exact) return { kind: "found", context: exact };

  const slash = ref.indexOf("/");
  if (slash > 0) {
    const [org, project] = [ref.slice(0, slash), ref.slice(slash + 1)];
    const byIds = own.find((c) => c["organization-id"] === org && c["project-id"] === project);
    if (byIds) return { kind: "found", context: byIds };
  }
  const byOrg = own.find((c) => c["organization-id"] === ref && !c["project-id"]);
  if (byOrg) return { kind: "found", context: byOrg };

  const steps: ((c: Context) => boolean)[] = [
    (c) => c["project-id"] === ref,
    (c) => {
      if (!c["project-id"]) return false;
      const org = organizationDisplayName(config, session, c["organization-id"] ?? "");
      const project = projectDisplayName(config, session, c["project-id"]);
      return sameText(`${org}/${project}`, ref);
    },
    (c) =>
      !c["project-id"] &&
      sameText(organizationDisplayName(config, session, c["organization-id"] ?? ""), ref),
    (c) =>
      c["project-id"] !== undefined &&
      sameText(projectDisplayName(config, session, c["project-id"]), ref),
  ];
  for (const step of steps) {
    const result = unique(own.filter(step));
    if (result) return result;
  }
  return { kind: "none" };
}

/**
 * Looks for a ref in every session except `exclude`: a full stored name first, then the ref
 * matched per session. Returns the first session where it resolves uniquely.
 */
export function findContextAnywhere(
  config: DatumctlConfig,
  ref: string,
  exclude?: string,
): Context | undefined {
  const byName = config.contexts.find((c) => c.name === ref && c.session !== exclude);
  if (byName) return byName;
  for (const session of config.sessions) {
    if (session.name === exclude) continue;
    const match = matchContextRef(config, session.name, ref);
    if (match.kind === "found") return match.context;
  }
  return undefined;
}
