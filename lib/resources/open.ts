/**
 * Opening what the resource verbs work on: the scope's control plane as the login that owns it,
 * or the user control plane for `get organizations`.
 *
 * Opening a scope applies the scope rule and the onboarding gate and returns a
 * {@link ResourceClient}. Projects live on the organization control plane, whatever the scope.
 * Logins are loaded through `storedAuthLoader` (lib/scope/open.ts). Commands import this module
 * dynamically, so `--help` never loads the credential code.
 */
import { ApiClient } from "../api/client.ts";
import { organizationControlPlaneUrl, userControlPlaneUrl } from "../api/urls.ts";
import { type AuthContext, subjectOf } from "../auth/token-source.ts";
import { loadConfig } from "../store/config.ts";
import { configPath } from "../store/paths.ts";
import { CliError } from "../core/errors.ts";
import { type OpenedScope, openScope, storedAuthLoader } from "../scope/open.ts";
import { resolveScope, type ScopeInputs } from "../scope/resolve.ts";
import { ResourceClient } from "./operations.ts";
import { isProjectsType } from "./organizations.ts";

/** What a scoped resource command works with. */
export interface ResourceScope {
  opened: OpenedScope;
  resources: ResourceClient;
}

/** Options of {@link openResourceScope}. */
export interface OpenResourceScopeOptions {
  inputs: ScopeInputs;
  warn?: (message: string) => void;
  /** Run the onboarding gate (default true). */
  onboarding?: boolean;
  /** Namespace of namespaced objects (default `default`). */
  namespace?: string;
}

/**
 * Resolves the scope (flag → env → --context → current context → error), loads the owning
 * session's login, passes the onboarding gate, and returns a {@link ResourceClient} for the
 * scope's control plane.
 */
export async function openResourceScope(options: OpenResourceScopeOptions): Promise<ResourceScope> {
  const opened = await openScope({
    inputs: options.inputs,
    loadAuth: storedAuthLoader(options.inputs.env, options.warn),
    onboarding: options.onboarding,
  });
  const resources = new ResourceClient(opened.client, {
    namespace: options.namespace,
    env: options.inputs.env,
    explainUnknownType: async (input) => {
      const { wrongPlaneError } = await import("./plane-hint.ts");
      return await wrongPlaneError(
        input,
        opened.scope,
        opened.client,
        await loadConfig(),
        options.inputs.env,
      );
    },
  });
  return { opened, resources };
}

/**
 * A client for the control plane of an opened scope's organization, where projects live. A
 * project scope's organization must be known (from the context cache or `--organization`).
 */
export function organizationPlaneOf(
  opened: OpenedScope,
  env: (name: string) => string | undefined,
): ResourceClient {
  const org = opened.scope.organizationId;
  if (!org) {
    throw new CliError(
      "ORGANIZATION_UNKNOWN",
      `cannot tell which organization project "${opened.scope.projectId}" belongs to`,
      { hint: "Pass --organization ORG, or run 'datumctl ctx --refresh'." },
    );
  }
  const client = opened.client.withBase(organizationControlPlaneUrl(opened.auth.apiBase, org));
  return new ResourceClient(client, { env });
}

/**
 * Opens the control plane a type (as typed) lives on: the scope's organization control plane for
 * projects, else the scope's own (see {@link openResourceScope}).
 */
export async function openResourcePlane(
  type: string,
  options: OpenResourceScopeOptions,
): Promise<ResourceScope> {
  if (!isProjectsType(type)) return await openResourceScope(options);
  const { opened } = await openResourceScope({ ...options, namespace: undefined });
  return { opened, resources: organizationPlaneOf(opened, options.inputs.env) };
}

/**
 * The user control plane of the login that frames this invocation (`--context`, else the current
 * context's session, else the active session); no context is needed.
 */
export async function openUserPlane(
  inputs: ScopeInputs,
  warn?: (message: string) => void,
): Promise<{ auth: AuthContext; client: ApiClient }> {
  let sessionName: string | undefined;
  try {
    sessionName = resolveScope(await loadConfig(configPath(inputs.env)), inputs).sessionName;
  } catch (err) {
    // The user control plane needs a login, not a context.
    const explicitContext = inputs.context || inputs.env("DATUM_CONTEXT");
    const noContext = err instanceof CliError &&
      (err.code === "NO_CONTEXT" || err.code === "NOT_LOGGED_IN" ||
        (err.code === "CONTEXT_NOT_FOUND" && !explicitContext));
    if (!noContext) throw err;
  }
  const auth = await storedAuthLoader(inputs.env, warn)(sessionName);
  const client = new ApiClient({
    auth,
    baseUrl: userControlPlaneUrl(auth.apiBase, subjectOf(auth)),
  });
  return { auth, client };
}
