/**
 * "Where does this type live?" for a type the scope's control plane does not serve: Datum
 * serves project types (httpproxies, connectors …) only in project control planes and
 * organization types only in organization control planes, so `get httpproxies --organization X`
 * would otherwise just say the type does not exist.
 *
 * It asks the other kind of plane (a project of the organization from the context cache, or the
 * project's organization) whether it serves the type, and if so returns the error that says so.
 */
import type { ApiClient } from "../api/client.ts";
import { organizationControlPlaneUrl, projectControlPlaneUrl } from "../api/urls.ts";
import type { ResolvedScope } from "../scope/resolve.ts";
import type { DatumctlConfig } from "../store/config.ts";
import { CliError } from "../core/errors.ts";
import { Discovery, resolveTypeIn } from "./discovery.ts";

/** Projects of `orgId` the config knows for `session` (cache first, then contexts). */
function projectsOf(config: DatumctlConfig, orgId: string, session?: string): string[] {
  const ids = config.cache.projects
    .filter((p) => p["org-id"] === orgId && (!session || p.session === session))
    .map((p) => p.id);
  for (const c of config.contexts) {
    if (c["organization-id"] === orgId && c["project-id"] && (!session || c.session === session)) {
      ids.push(c["project-id"]);
    }
  }
  return [...new Set(ids)].sort();
}

/**
 * When `input` is not served by the scope's plane but is by the other kind of plane, the error
 * that names where it lives and the flag to get there; otherwise undefined (keep the original
 * error). Failures while asking (network, permissions) also give undefined.
 */
export async function wrongPlaneError(
  input: string,
  scope: ResolvedScope,
  client: ApiClient,
  config: DatumctlConfig,
  env?: (name: string) => string | undefined,
): Promise<CliError | undefined> {
  const apiBase = client.auth.apiBase;
  try {
    if (scope.kind === "organization" && scope.organizationId) {
      const org = scope.organizationId;
      const projects = projectsOf(config, org, scope.sessionName);
      // Without a known project there is no project plane to ask.
      if (projects.length === 0) return undefined;
      const plane = client.withBase(projectControlPlaneUrl(apiBase, projects[0]));
      const type = resolveTypeIn((await new Discovery(plane, { env }).document()).resources, input);
      return new CliError(
        "WRONG_PLANE",
        `${type.plural} are project resources: the organization ${org} does not serve them`,
        {
          hint: `Use --project ${org}/${projects[0]}${
            projects.length > 1 ? ` (or another project: ${projects.slice(1).join(", ")})` : ""
          }.`,
        },
      );
    }
    if (scope.kind === "project" && scope.organizationId) {
      const org = scope.organizationId;
      const plane = client.withBase(organizationControlPlaneUrl(apiBase, org));
      const type = resolveTypeIn((await new Discovery(plane, { env }).document()).resources, input);
      return new CliError(
        "WRONG_PLANE",
        `${type.plural} are organization resources: the project ${scope.projectId} does not serve them`,
        { hint: `Use --organization ${org}.` },
      );
    }
  } catch {
    // The other plane does not serve it either, or cannot be asked: the original error stands.
  }
  return undefined;
}
