/**
 * Opening what the tunnel commands work on: the project scope (flag → env → context → current
 * context), the login that owns it, a client for the project's control plane, and this machine's
 * identity for that project.
 *
 * Tunnels are project resources: an organization scope is a clear error naming the flags that fix
 * it.
 */
import { ApiClient } from "../api/client.ts";
import { projectControlPlaneUrl } from "../api/urls.ts";
import { openScope, storedAuthLoader } from "../scope/open.ts";
import type { ScopeInputs } from "../scope/resolve.ts";
import { UsageError } from "../core/errors.ts";
import {
  connectRepo,
  endpointIdFromSecret,
  loadOrCreateListenKey,
  namedTunnelDir,
  readListenKey,
} from "./keys.ts";
import { TunnelService, type TunnelServiceOptions } from "./tunnel-api.ts";

/** A project ready for tunnel commands. */
export interface TunnelProject {
  projectId: string;
  client: ApiClient;
  /** The datum-connect data folder, or a named tunnel's own folder (see `namedTunnelDir`). */
  repo: string;
  /** The tunnel name (`listen --name`), when there is one. */
  name?: string;
  /** Display name of the project, when the discovery cache knows it. */
  displayName?: string;
}

/**
 * Resolves the project scope and opens its control plane; `repo` is `--repo` (or undefined) and
 * `name` a tunnel name, which gives the tunnel its own folder (checked before any login is read).
 */
export async function openTunnelProject(
  inputs: ScopeInputs,
  options: { repo?: string; name?: string; warn?: (message: string) => void } = {},
): Promise<TunnelProject> {
  const shared = connectRepo(options.repo, inputs.env);
  const repo = options.name === undefined ? shared : namedTunnelDir(options.name, inputs.env);
  const opened = await openScope({
    inputs,
    loadAuth: storedAuthLoader(inputs.env, options.warn),
  });
  if (opened.scope.kind !== "project" || !opened.scope.projectId) {
    const where = opened.scope.organizationId
      ? `organization ${opened.scope.organizationId} (${opened.scope.reason})`
      : `the ${opened.scope.kind} scope`;
    throw new UsageError(
      `tunnels live in a project, but this command's scope is ${where}`,
      "Pass --project ID, set DATUM_PROJECT, or run 'datumctl ctx use' to pick a project.",
    );
  }
  return {
    projectId: opened.scope.projectId,
    client: opened.client,
    repo,
    name: options.name,
    displayName: opened.scope.projectDisplayName,
  };
}

/**
 * Opens a project the parent process already resolved (`listen --detach` hands it to its child):
 * only the named session's login is loaded, for the project's control plane; the scope rule and
 * the onboarding check are not run again.
 */
export async function openResolvedTunnelProject(
  resolved: { projectId: string; session?: string; repo: string; name?: string },
  env: (name: string) => string | undefined,
  warn?: (message: string) => void,
): Promise<TunnelProject> {
  const auth = await storedAuthLoader(env, warn)(resolved.session);
  return {
    projectId: resolved.projectId,
    client: new ApiClient({
      auth,
      baseUrl: projectControlPlaneUrl(auth.apiBase, resolved.projectId),
    }),
    repo: resolved.repo,
    name: resolved.name,
  };
}

/**
 * A service for commands that must not create an identity (`list`): none when this machine has
 * no key for the project yet (then it has no tunnels there either).
 */
export async function readOnlyService(project: TunnelProject): Promise<TunnelService | undefined> {
  const secret = await readListenKey(project.repo, project.projectId);
  if (!secret) return undefined;
  return serviceAs(project, await endpointIdFromSecret(secret));
}

/** What a command may add to a {@link TunnelService}'s options. */
export type ServiceExtras = Pick<TunnelServiceOptions, "onNotice" | "connectorClass">;

/**
 * A service acting as this machine (`update`): its identity for the project, created on first
 * use.
 */
export async function machineService(
  project: TunnelProject,
  extras: ServiceExtras = {},
): Promise<TunnelService> {
  const key = await loadOrCreateListenKey(project.repo, project.projectId);
  return serviceAs(project, await endpointIdFromSecret(key.secret), extras);
}

/** An endpoint id no key has: a service acting as it owns no Connector. */
const NO_IDENTITY = "0".repeat(64);

/**
 * A service for `delete`: this machine's when it has a key for the project. Without one it has
 * no Connector, and a service with no identity still deletes the tunnel.
 */
export async function deletingService(project: TunnelProject): Promise<TunnelService> {
  return await readOnlyService(project) ?? serviceAs(project, NO_IDENTITY);
}

/**
 * A service for `list` that creates no identity: this machine's when it has a key for the
 * project, else one whose identity matches no Connector. Either way the server is asked, so an
 * unknown project or a missing permission fails as `get` does instead of "No tunnels found".
 */
export async function listingService(project: TunnelProject): Promise<TunnelService> {
  return await readOnlyService(project) ?? serviceAs(project, NO_IDENTITY);
}

function serviceAs(
  project: TunnelProject,
  endpointId: string,
  extras: ServiceExtras = {},
): TunnelService {
  return new TunnelService({
    client: project.client,
    projectId: project.projectId,
    endpointId,
    repo: project.repo,
    ...extras,
  });
}
