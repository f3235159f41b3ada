/**
 * The scope an MCP server works in, and the clients its tools open in it.
 *
 * The scope is resolved once when the server starts, with the normal rule
 * (`--project`/`--organization` → `DATUM_PROJECT`/`DATUM_ORGANIZATION` →
 * `--context`/`DATUM_CONTEXT` → current context), and then pinned to the context that framed it, so
 * a `datumctl ctx use` in another terminal does not move an agent's session to another project
 * mid-conversation. A tool call may still name another project or organization for itself. Opened
 * clients are reused between calls; their login refreshes its token on demand (lib/auth), and an
 * authentication failure drops the cached client so the next call reads the credential store again.
 */
import type { ApiClient } from "../api/client.ts";
import type { AuthContext } from "../auth/token-source.ts";
import { type Whoami, whoami } from "../scope/whoami.ts";
import { openResourceScope, openUserPlane, organizationPlaneOf } from "../resources/open.ts";
import type { ResourceClient } from "../resources/operations.ts";
import { loadConfig } from "../store/config.ts";
import type { OpenedScope } from "../scope/open.ts";
import { type ResolvedScope, resolveScope, type ScopeInputs } from "../scope/resolve.ts";
import { CliError, ExitCode } from "../core/errors.ts";

/** A per-call scope chosen by the agent: one of the two, or neither for the server's scope. */
export interface ScopeOverride {
  project?: string;
  organization?: string;
}

/** A scope as tools report it. */
export interface ScopeSummary {
  kind: "user" | "organization" | "project";
  /** `org` or `org/project`, when known. */
  ref: string | null;
  organization: { id: string; displayName: string } | null;
  project: { id: string; displayName: string } | null;
  /** Why this scope, e.g. `from the current context`, `from --project`. */
  reason: string;
}

/** What a scoped tool works with: the resolved scope and a client for its control plane. */
export interface OpenedResources {
  opened: OpenedScope;
  resources: ResourceClient;
}

/** The summary of a resolved scope. */
export function summarizeScope(scope: ResolvedScope): ScopeSummary {
  const org = scope.organizationId;
  const project = scope.projectId;
  return {
    kind: scope.kind,
    ref: project ? (org ? `${org}/${project}` : project) : org ?? null,
    organization: org ? { id: org, displayName: scope.organizationDisplayName ?? org } : null,
    project: project ? { id: project, displayName: scope.projectDisplayName ?? project } : null,
    reason: scope.reason,
  };
}

/** The scope of one MCP server and the clients opened in it. */
export class McpScope {
  /** The scope inputs every call starts from (pinned to the starting context when there was one). */
  readonly inputs: ScopeInputs;
  /** The scope resolved at start, or why it could not be. */
  readonly startup: ResolvedScope | CliError;
  readonly #warn: (message: string) => void;
  readonly #opened = new Map<string, Promise<OpenedResources>>();
  readonly #orgPlanes = new Map<string, Promise<ResourceClient>>();

  private constructor(
    inputs: ScopeInputs,
    startup: ResolvedScope | CliError,
    warn: (message: string) => void,
  ) {
    this.inputs = inputs;
    this.startup = startup;
    this.#warn = warn;
  }

  /**
   * Resolves the scope of `inputs` once and pins it. A usage error (both `--project` and
   * `--organization`, say) is thrown; any other failure (no login yet, no context) is kept in
   * {@link startup} and every call resolves again, so a later `datumctl login` or `ctx use` is
   * picked up without restarting the server.
   */
  static async start(inputs: ScopeInputs, warn: (message: string) => void): Promise<McpScope> {
    let startup: ResolvedScope | CliError;
    try {
      startup = resolveScope(await loadConfig(), inputs);
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode === ExitCode.usage) throw err;
      startup = err;
    }
    const pinned = startup instanceof CliError || !startup.contextName
      ? inputs
      : { ...inputs, context: startup.contextName };
    return new McpScope(pinned, startup, warn);
  }

  /**
   * The summary of a call's scope. A scope framed by the pinned context reports why that
   * context was chosen at start (e.g. `from the current context`), not the pin itself.
   */
  summary(scope: ResolvedScope): ScopeSummary {
    const summary = summarizeScope(scope);
    const start = this.startup;
    if (
      !(start instanceof CliError) && start.contextName && scope.source === "context-flag" &&
      scope.contextName === start.contextName && this.inputs.context === start.contextName
    ) {
      summary.reason = start.reason;
    }
    return summary;
  }

  /** The inputs of one call: the server's, or the override's project/organization in its frame. */
  inputsFor(override: ScopeOverride = {}): ScopeInputs {
    const project = override.project?.trim() || undefined;
    const organization = override.organization?.trim() || undefined;
    if (!project && !organization) return this.inputs;
    return { ...this.inputs, project, organization };
  }

  /** Resolves the scope of a call without opening anything (no network, no credentials). */
  async resolve(override: ScopeOverride = {}): Promise<ResolvedScope> {
    return resolveScope(await loadConfig(), this.inputsFor(override));
  }

  /** Who the server's calls run as, with the stored login loaded (lib/scope/whoami.ts). */
  async whoami(): Promise<Whoami> {
    return await whoami(this.inputs, { loadLogin: true, warn: this.#warn });
  }

  /** The scope's control plane (resolved, logged in, onboarding checked), reused between calls. */
  open(override: ScopeOverride = {}): Promise<OpenedResources> {
    const inputs = this.inputsFor(override);
    const key = JSON.stringify([inputs.project, inputs.organization, inputs.context]);
    return this.#cached(this.#opened, key, async () => {
      const { opened, resources } = await openResourceScope({ inputs, warn: this.#warn });
      return { opened, resources };
    });
  }

  /**
   * The control plane of the scope's organization, where projects live (a project scope's
   * organization must be known from the context cache or the override).
   */
  async organizationPlane(
    override: ScopeOverride = {},
  ): Promise<{ resources: ResourceClient; scope: ResolvedScope }> {
    const { opened } = await this.open(override);
    const key = `${opened.auth.apiBase} ${opened.scope.organizationId}`;
    const resources = await this.#cached(
      this.#orgPlanes,
      key,
      () => Promise.resolve().then(() => organizationPlaneOf(opened, this.inputs.env)),
    );
    return { resources, scope: opened.scope };
  }

  /** The user control plane of the login framing the call (organization memberships). */
  async userPlane(override: ScopeOverride = {}): Promise<{ auth: AuthContext; client: ApiClient }> {
    return await openUserPlane(this.inputsFor(override), this.#warn);
  }

  /**
   * Forgets opened clients after an authentication failure, so a new login (or a restored
   * credential) is used by the next call.
   */
  forgetAfter(err: unknown): void {
    if (err instanceof CliError && err.exitCode === ExitCode.noPermission) {
      this.#opened.clear();
      this.#orgPlanes.clear();
    }
  }

  #cached<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    let hit = cache.get(key);
    if (!hit) {
      hit = make();
      cache.set(key, hit);
      // A failure is not remembered: the next call tries again.
      hit.catch(() => {
        if (cache.get(key) === hit) cache.delete(key);
      });
    }
    return hit;
  }
}
