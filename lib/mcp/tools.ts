/**
 * What the `datumctl mcp` tools do, as plain functions over an {@link McpScope}: each returns
 * the structured result its output schema (`schemas.ts`) describes, or throws the same
 * `CliError` the matching datumctl command would. Nothing here knows about MCP messages.
 */
import { checkResourceName, RESOURCE_MANAGER_GROUP } from "../api/urls.ts";
import { parseManifests } from "../resources/manifests.ts";
import type { KubeObject } from "../resources/objects.ts";
import type { ResourceClient, WriteResult } from "../resources/operations.ts";
import {
  isOrganizationsType,
  isProjectsType,
  organizationRows,
} from "../resources/organizations.ts";
import { preferredTypes, typeApiVersion, typeFullName } from "../resources/discovery.ts";
import type { ResourceType } from "../resources/discovery.ts";
import { contextListing } from "../scope/listing.ts";
import type { ResolvedScope } from "../scope/resolve.ts";
import { readObjects } from "../resources/read.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import type { McpScope, ScopeOverride, ScopeSummary } from "./scope.ts";
import type {
  ApplyResult,
  DeleteResult,
  DescribeResult,
  GetResult,
  ListContextsResult,
  ListResourceTypesResult,
  ListTunnelsResult,
  WhoamiResult,
} from "./schemas.ts";

/** The refusal of a write tool on a `--read-only` server. */
export function readOnlyRefusal(tool: string): CliError {
  return new CliError(
    "READ_ONLY",
    `${tool} is refused: this MCP server was started with --read-only`,
    {
      hint: "Restart it without --read-only ('datumctl mcp') to let the agent change resources.",
      exitCode: ExitCode.noPermission,
    },
  );
}

/** `whoami`: who the tools run as, against which server and scope. */
export async function whoami(scope: McpScope, readOnly: boolean): Promise<WhoamiResult> {
  const who = await scope.whoami();
  const error = who.scopeError;
  // A usage error (both --project and --organization) is the caller's to fix, not a missing scope.
  if (error !== undefined && (!(error instanceof CliError) || error.exitCode === ExitCode.usage)) {
    throw error;
  }
  return {
    user: who.user,
    endpoint: who.endpoint,
    session: who.session,
    credentials: who.credentials.source,
    scope: who.scope ? scope.summary(who.scope) : null,
    scopeError: error instanceof Error ? error.message : null,
    readOnly,
  };
}

/** `list_contexts`: the organizations and projects of the login(s), from the discovery cache. */
export async function listContexts(
  scope: McpScope,
  options: { all?: boolean; refresh?: boolean },
  warn: (message: string) => void,
): Promise<ListContextsResult> {
  const { views } = await contextListing({ ...options, env: scope.inputs.env, warn });
  let serverScope: string | null = null;
  try {
    serverScope = scope.summary(await scope.resolve()).ref;
  } catch { /* no scope yet: reported as null */ }
  return {
    contexts: views.map((v) => ({
      ref: v.ref,
      type: v.type,
      organization: v.organization,
      project: v.project ?? null,
      session: v.session,
      email: v.email ?? null,
      current: v.current,
    })),
    serverScope,
  };
}

/** `list_resource_types`: the preferred version of every type the scope's control plane serves. */
export async function listResourceTypes(
  scope: McpScope,
  options: ScopeOverride & { apiGroup?: string },
): Promise<ListResourceTypesResult> {
  const { opened, resources } = await scope.open(options);
  const types = preferredTypes(await resources.discovery.refresh(), {
    apiGroup: options.apiGroup,
  });
  return {
    scope: scope.summary(opened.scope),
    types: types.map((t) => ({
      name: t.plural,
      qualifiedName: typeFullName(t),
      kind: t.kind,
      apiVersion: typeApiVersion(t),
      namespaced: t.namespaced,
      shortNames: t.shortNames,
      verbs: t.verbs,
    })),
  };
}

function typeSummary(type: ResourceType): GetResult["type"] {
  return {
    name: typeFullName(type),
    kind: type.kind,
    apiVersion: typeApiVersion(type),
    namespaced: type.namespaced,
  };
}

/** An object without the write bookkeeping agents never need (managedFields). */
function forAgent(object: KubeObject): Record<string, unknown> {
  const copy = structuredClone(object);
  if (copy.metadata) delete copy.metadata.managedFields;
  return copy as Record<string, unknown>;
}

/** The control plane a type lives on: the organization's for projects, else the scope's. */
async function planeFor(
  scope: McpScope,
  type: string,
  override: ScopeOverride,
): Promise<{ resources: ResourceClient; scope: ResolvedScope }> {
  if (isProjectsType(type)) return await scope.organizationPlane(override);
  const { opened, resources } = await scope.open(override);
  return { resources, scope: opened.scope };
}

/** What the `get` and `describe` tools read: a type, one name or selectors, and the scope. */
type ReadCallOptions = ScopeOverride & {
  type: string;
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
};

/**
 * The objects a `get`/`describe` call names (one by name, else a listing narrowed by selectors)
 * on the control plane their type lives on: the organization's for projects, else the scope's.
 */
async function readCall(
  scope: McpScope,
  options: ReadCallOptions,
): Promise<{ scope: ResolvedScope; type: ResourceType; objects: KubeObject[] }> {
  if (options.name) checkResourceName(options.name);
  const plane = await planeFor(scope, options.type, options);
  const type = await plane.resources.resolveType(options.type);
  const { objects } = await readObjects(plane.resources, type, options.name ? [options.name] : [], {
    labelSelector: options.labelSelector || undefined,
    fieldSelector: options.fieldSelector || undefined,
  });
  return { scope: plane.scope, type, objects };
}

async function getOrganizations(
  scope: McpScope,
  options: ScopeOverride & { name?: string },
): Promise<GetResult> {
  const { auth, client } = await scope.userPlane(options);
  const rows = await organizationRows(client, options.name ? [options.name] : []);
  const summary: ScopeSummary = {
    kind: "user",
    ref: null,
    organization: null,
    project: null,
    reason: `the organizations ${auth.identity.email} belongs to`,
  };
  return {
    scope: summary,
    type: {
      name: `organizations.${RESOURCE_MANAGER_GROUP}`,
      kind: "Organization",
      apiVersion: `${RESOURCE_MANAGER_GROUP}/v1alpha1`,
      namespaced: false,
    },
    count: rows.length,
    items: rows.map((r) => ({
      id: r.id,
      displayName: r.displayName,
      type: r.type ?? null,
      status: r.status,
      onboardingReason: r.reason ?? null,
      email: r.email ?? null,
      creationTimestamp: r.creationTimestamp ?? null,
    })),
  };
}

/** `get`: one object by name, or a listing (optionally filtered by label/field selectors). */
export async function getResources(
  scope: McpScope,
  options: ReadCallOptions,
): Promise<GetResult> {
  // Names are data, never paths: refused before any request (an empty name means "all").
  if (options.name) checkResourceName(options.name);
  if (isOrganizationsType(options.type)) return await getOrganizations(scope, options);
  const read = await readCall(scope, options);
  return {
    scope: scope.summary(read.scope),
    type: typeSummary(read.type),
    count: read.objects.length,
    items: read.objects.map(forAgent),
  };
}

/**
 * `describe`: kubectl-style descriptions of one object or of a listing, each written by
 * `describe` (the text `datumctl describe` prints, which lib/ui renders).
 */
export async function describeResources(
  scope: McpScope,
  options: ScopeOverride & { type: string; name?: string; labelSelector?: string },
  describe: (object: KubeObject) => string,
): Promise<DescribeResult> {
  const read = await readCall(scope, options);
  return {
    scope: scope.summary(read.scope),
    type: typeSummary(read.type),
    descriptions: read.objects.map((o) => ({
      name: o.metadata?.name ?? "",
      text: describe(o),
    })),
  };
}

/**
 * Some documents of a multi-document `apply` failed: what was applied, and each failure in
 * document order (the others were still applied, as `datumctl apply -f` does).
 */
export class ApplyFailure extends Error {
  constructor(
    readonly applied: ApplyResult["results"],
    readonly failures: { document: number; error: unknown }[],
    readonly total: number,
  ) {
    super(`${failures.length} of ${total} objects failed`);
    this.name = "ApplyFailure";
  }
}

function writeSummary(result: WriteResult) {
  return { ref: result.ref, action: result.action, dryRun: result.dryRun !== undefined };
}

/** `apply`: server-side apply (field manager `datumctl`) of every object in `manifest`. */
export async function applyManifest(
  scope: McpScope,
  options: ScopeOverride & { manifest: string; dryRun?: boolean; forceConflicts?: boolean },
): Promise<ApplyResult> {
  const manifests = parseManifests(options.manifest, "the manifest");
  const { opened, resources } = await scope.open(options);
  const results: ApplyResult["results"] = [];
  const failures: { document: number; error: unknown }[] = [];
  for (const m of manifests) {
    try {
      const result = await resources.apply(m.object, {
        dryRun: options.dryRun ? "server" : "none",
        force: options.forceConflicts,
        fieldManager: "datumctl",
      });
      results.push({
        ...writeSummary(result),
        object: result.object ? forAgent(result.object) : null,
      });
    } catch (err) {
      if (manifests.length === 1) throw err;
      failures.push({ document: m.document, error: err });
    }
  }
  if (failures.length > 0) throw new ApplyFailure(results, failures, manifests.length);
  return { scope: scope.summary(opened.scope), results };
}

/** `delete`: one object by type and name. */
export async function deleteResource(
  scope: McpScope,
  options: ScopeOverride & { type: string; name: string; dryRun?: boolean },
): Promise<DeleteResult> {
  checkResourceName(options.name);
  const plane = await planeFor(scope, options.type, options);
  const type = await plane.resources.resolveType(options.type);
  const result = await plane.resources.delete(type, options.name, {
    dryRun: options.dryRun ? "server" : "none",
  });
  if (!result) throw new Error(`deleting ${options.name} returned nothing`);
  return { scope: scope.summary(plane.scope), result: writeSummary(result) };
}

/** `list_tunnels`: this machine's tunnels in the project (read-only, like `tunnel list`). */
export async function listTunnels(
  scope: McpScope,
  options: { project?: string },
  warn: (message: string) => void,
): Promise<ListTunnelsResult> {
  const { openTunnelProject, listingService } = await import("../tunnel/open.ts");
  const project = await openTunnelProject(scope.inputsFor({ project: options.project }), {
    warn,
  });
  // The server is asked even when this machine has no identity there, so a project the login
  // cannot see is an error (as `tunnel list` says), not "no tunnels".
  const tunnels = await (await listingService(project)).list();
  return {
    project: project.projectId,
    tunnels: tunnels.map((t) => ({
      id: t.id,
      label: t.label,
      endpoint: t.endpoint,
      hostnames: t.hostnames,
      enabled: t.enabled,
      state: t.state,
    })),
  };
}
