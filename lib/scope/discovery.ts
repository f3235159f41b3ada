/**
 * Context discovery: the organizations a login belongs to
 * and each one's projects, read from the API and written into the config as contexts plus the
 * display-name cache.
 *
 * Reading from the API (network only) and applying the result to the config (pure: it replaces the
 * session's contexts and merges the cache) are separate steps; a refresh does both under the config
 * lock. The cache goes stale after an hour, which drives the auto-refresh of `ctx`.
 */
import { ApiClient } from "../api/client.ts";
import {
  organizationControlPlaneUrl,
  RESOURCE_MANAGER_GROUP,
  userControlPlaneUrl,
} from "../api/urls.ts";
import { type AuthContext, subjectOf } from "../auth/token-source.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { type Context, type DatumctlConfig, updateConfig } from "../store/config.ts";

/** A project as discovery found it. */
export interface DiscoveredProject {
  id: string;
  displayName: string;
}

/** An organization the user belongs to, with its projects. */
export interface DiscoveredOrganization {
  id: string;
  displayName: string;
  /** `Personal` or `Standard`, when the membership says. */
  type?: string;
  projects: DiscoveredProject[];
}

/** How old the cache may get before `ctx` refreshes it. */
export const CACHE_MAX_AGE_MS = 60 * 60 * 1000;

const DISPLAY_NAME = "kubernetes.io/display-name";
const DESCRIPTION = "kubernetes.io/description";

interface Membership {
  spec?: { organizationRef?: { name?: string } };
  status?: { organization?: { displayName?: string; type?: string } };
}

interface ProjectObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/**
 * Lists the memberships on the user control plane, then every organization's projects
 * concurrently. Any failure aborts (a partial answer would drop contexts).
 */
export async function discoverOrganizations(
  auth: AuthContext,
  options: { client?: ApiClient; signal?: AbortSignal } = {},
): Promise<DiscoveredOrganization[]> {
  const client = options.client ?? new ApiClient({ auth, baseUrl: auth.apiBase });
  const userCp = client.withBase(userControlPlaneUrl(auth.apiBase, subjectOf(auth)));
  const memberships = await userCp.list<Membership>(
    `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizationmemberships`,
    { signal: options.signal },
  );
  const orgs = new Map<string, Omit<DiscoveredOrganization, "projects">>();
  for (const m of memberships.items) {
    const id = m.spec?.organizationRef?.name;
    if (!id || orgs.has(id)) continue;
    orgs.set(id, {
      id,
      displayName: m.status?.organization?.displayName || id,
      type: m.status?.organization?.type || undefined,
    });
  }
  const result = await Promise.all(
    [...orgs.values()].map(async (org) => {
      const projects = await client.withBase(organizationControlPlaneUrl(auth.apiBase, org.id))
        .list<ProjectObject>(`/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/projects`, {
          signal: options.signal,
        });
      return {
        ...org,
        projects: projects.items
          .filter((p) => p.metadata?.name)
          .map((p) => ({ id: p.metadata!.name!, displayName: projectDisplayName(p) }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      };
    }),
  );
  return result.sort((a, b) => a.id.localeCompare(b.id));
}

/** `kubernetes.io/display-name`, else `kubernetes.io/description`, else the id. */
function projectDisplayName(project: ProjectObject): string {
  const annotations = project.metadata?.annotations ?? {};
  return annotations[DISPLAY_NAME]?.trim() || annotations[DESCRIPTION]?.trim() ||
    project.metadata!.name!;
}

/** The stored context name of an organization or project for a session. */
export function contextName(session: string, orgId: string, projectId?: string): string {
  return projectId ? `${session}/${orgId}/${projectId}` : `${session}/${orgId}`;
}

/** RFC 3339 without fractions, as Go writes `last-refreshed`. */
function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Replaces `session`'s contexts with one per organization and one per project (namespace
 * `default`), merges the cache per (session, id) dropping the session's stale entries, and stamps
 * `last-refreshed`. Fields we do not know on surviving entries are kept. A current or last context
 * of this session that no longer exists is cleared rather than left dangling.
 */
export function applyDiscovery(
  config: DatumctlConfig,
  session: string,
  organizations: DiscoveredOrganization[],
  now: Date = new Date(),
): void {
  const previous = new Map(config.contexts.map((c) => [c.name, c]));
  const fresh: Context[] = [];
  for (const org of organizations) {
    const orgName = contextName(session, org.id);
    fresh.push({ ...previous.get(orgName), name: orgName, session, "organization-id": org.id });
    for (const project of org.projects) {
      const name = contextName(session, org.id, project.id);
      fresh.push({
        ...previous.get(name),
        name,
        session,
        "organization-id": org.id,
        "project-id": project.id,
        namespace: "default",
      });
    }
  }
  config.contexts = [...config.contexts.filter((c) => c.session !== session), ...fresh];

  const names = new Set(fresh.map((c) => c.name));
  const current = config["current-context"];
  if (current && previous.get(current)?.session === session && !names.has(current)) {
    delete config["current-context"];
  }
  const record = config.sessions.find((s) => s.name === session);
  if (record?.["last-context"] && !names.has(record["last-context"])) {
    delete record["last-context"];
  }

  const oldOrgs = new Map(
    config.cache.organizations.filter((o) => o.session === session).map((o) => [o.id, o]),
  );
  const oldProjects = new Map(
    config.cache.projects.filter((p) => p.session === session).map((p) => [p.id, p]),
  );
  config.cache.organizations = [
    ...config.cache.organizations.filter((o) => o.session !== session),
    ...organizations.map((o) => ({
      ...oldOrgs.get(o.id),
      id: o.id,
      "display-name": o.displayName,
      session,
    })),
  ];
  config.cache.projects = [
    ...config.cache.projects.filter((p) => p.session !== session),
    ...organizations.flatMap((o) =>
      o.projects.map((p) => ({
        ...oldProjects.get(p.id),
        id: p.id,
        "display-name": p.displayName,
        "org-id": o.id,
        session,
      }))
    ),
  ];
  config.cache["last-refreshed"] = timestamp(now);
}

/** True when the cache was never refreshed or is older than {@link CACHE_MAX_AGE_MS}. */
export function cacheIsStale(config: DatumctlConfig, now: Date = new Date()): boolean {
  const at = Date.parse(config.cache["last-refreshed"] ?? "");
  return Number.isNaN(at) || now.getTime() - at > CACHE_MAX_AGE_MS;
}

/**
 * Discovers `auth`'s organizations and projects and stores them for its session (under the
 * config lock, so a concurrent `ctx use` is not lost). Returns what was found.
 */
export async function refreshSessionContexts(
  auth: AuthContext,
  options: { configPath?: string; client?: ApiClient; now?: Date } = {},
): Promise<DiscoveredOrganization[]> {
  const session = auth.sessionName;
  if (!session) {
    throw new CliError(
      "NO_SESSION",
      `contexts can only be stored for a login session, not for ${auth.kind}`,
      {
        hint: "Run 'datumctl login' to create a session, or pass --project/--organization.",
        exitCode: ExitCode.config,
      },
    );
  }
  const organizations = await discoverOrganizations(auth, { client: options.client });
  await updateConfig((config) => {
    if (!config.sessions.some((s) => s.name === session)) {
      throw new CliError("NO_SESSION", `the session ${session} is no longer in the config`, {
        hint: "Run 'datumctl login' again.",
      });
    }
    applyDiscovery(config, session, organizations, options.now);
  }, options.configPath);
  return organizations;
}
