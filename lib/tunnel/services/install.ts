/**
 * `tunnel install`: check everything that can be checked before anything is written, then write
 * the definition and the unit, and hand them to the service manager — undoing every step when a
 * later one fails, so a failed install leaves nothing behind.
 *
 * The checks, each one sentence + a hint: the name and every `--allow-peer` id are well formed
 * (2), the name is free (64), the session exists (77), a
 * `--system` service has a service-account session (78) whose secret root can read at boot (78),
 * `--system` runs as root (77), the session can mint a token now (77), and the identity may
 * create tunnels in the project — a server-side dry run of the HTTPProxy create (77 on 403).
 *
 * Planning (all the checks, the unit and definition texts) is separate from applying, so
 * `--dry-run` shows the plan and writes nothing.
 */
import { ApiClient } from "../../api/client.ts";
import { ApiError } from "../../api/errors.ts";
import { apiHost, projectControlPlaneUrl } from "../../api/urls.ts";
import type { SelfCommand } from "../../process/self-command.ts";
import { findSession } from "../../scope/contexts.ts";
import { resolveScope, type ScopeInputs } from "../../scope/resolve.ts";
import { loadConfig } from "../../store/config.ts";
import { CredentialStore, isServiceAccountCredential } from "../../store/credentials.ts";
import { ensurePrivateDir, pathExists } from "../../store/files.ts";
import { CliError, ExitCode, UsageError } from "../../core/errors.ts";
import { endpointFromArgument, parseTarget } from "../endpoint.ts";
import { checkTunnelName } from "../keys.ts";
import { httpProxyManifest, TUNNEL_KINDS } from "../resources.ts";
import { checkPeerIds } from "../peer-ids.ts";
import {
  readServiceDefinition,
  removeServiceDefinition,
  serializeServiceDefinition,
  type ServiceDefinition,
  writeServiceDefinition,
} from "./definition.ts";
import {
  describeService,
  type InstalledService,
  managerCommands,
  type ManagerKind,
  managerVersion,
  mustRunManager,
  requireManager,
  runManager,
} from "./manager.ts";
import { renderServiceUnit } from "./units.ts";

type Env = (name: string) => string | undefined;

/** What `tunnel install` was asked to do. */
export interface InstallRequest {
  name: string;
  endpoint: string;
  label?: string;
  /** `--session`; default: the session the scope rule picks (the active one). */
  session?: string;
  /** `--project`, `--context` and the environment (the scope rule picks the project). */
  scope: ScopeInputs;
  system: boolean;
  /** Preview only: run the checks, render, write nothing (root and the manager not required). */
  dryRun: boolean;
  /** How the unit starts datumctl (`selfCommand()`). */
  command: SelfCommand;
  /** Default: this operating system's manager. */
  manager?: ManagerKind;
  /** Default: `Deno.uid() === 0`. */
  isRoot?: () => boolean;
  /** Receives warnings for the person, one sentence each. */
  warn: (message: string) => void;
  /** `--inspect [ADDR]`: `on` or a loopback address (checked by the caller). */
  inspect?: string;
  /**
   * `--allow-peer` ids, as given; with `DATUMCTL_TUNNEL_ALLOWED_PEERS` of the install's
   * environment they become the definition's `allow_peers`.
   */
  allowPeers?: string[];
}

/** A checked install, ready to write. */
export interface InstallPlan {
  service: InstalledService;
  definitionText: string;
  unitText: string;
  unitBytes: Uint8Array;
  /** True when the session is a service account (else a person's login). */
  serviceAccount: boolean;
}

function isRootUser(): boolean {
  return Deno.build.os === "windows" ? true : Deno.uid() === 0;
}

/** Runs every check and renders the definition and unit; writes nothing. */
export async function planInstall(request: InstallRequest): Promise<InstallPlan> {
  const env = request.scope.env;
  checkTunnelName(request.name);
  const endpoint = endpointFromArgument(request.endpoint);
  parseTarget(endpoint);
  // The unit starts with almost no environment, so the peers exported for this install are
  // kept in the definition, not left to whatever the service manager passes.
  const allowPeers = checkPeerIds(request.allowPeers, env("DATUMCTL_TUNNEL_ALLOWED_PEERS"));
  if (request.label !== undefined && request.label.trim() === "") {
    throw new UsageError("--label cannot be empty", "Leave it out to use the tunnel's name.");
  }
  const scope: ServiceDefinition["scope"] = request.system ? "system" : "user";
  const manager = request.manager;

  // (6) The name is free: a definition or a unit of that name means it is installed already. A
  // definition that does not parse stops here too (65), and is never overwritten.
  const existing = await readServiceDefinition(request.name, env);
  const probe = describeService(placeholder(request.name, scope), env, manager);
  if (existing || await pathExists(probe.unitPath)) {
    throw new CliError(
      "SERVICE_EXISTS",
      `a tunnel service named "${request.name}" is already installed (${
        existing ? probe.definitionPath : probe.unitPath
      })`,
      {
        hint: `Remove it first with 'datumctl tunnel uninstall --name ${request.name}${
          existing?.scope === "system" || (!existing && request.system) ? " --system" : ""
        }', or pick another --name.`,
        exitCode: ExitCode.rejected,
      },
    );
  }

  // (1) The session exists, and the scope is a project.
  const config = await loadConfig();
  const resolved = resolveScope(config, { ...request.scope, session: request.session });
  const session = findSession(config, resolved.sessionName);
  if (!session) {
    throw new CliError("NOT_LOGGED_IN", "there is no session to run the service with", {
      hint: "Log in first ('datumctl login', or 'datumctl login --credentials <key.json>' for a " +
        "service account), or pass --session.",
      exitCode: ExitCode.noPermission,
    });
  }
  if (resolved.kind !== "project" || !resolved.projectId) {
    throw new UsageError(
      "a tunnel service needs a project, but this command's scope is not one",
      "Pass --project ID, set DATUM_PROJECT, or run 'datumctl ctx use' to pick a project.",
    );
  }

  // (2) A system service starts at boot, before anyone logs in: only a service account's key
  // can mint tokens then; a person's refresh token may be revoked or expire with their login.
  const store = new CredentialStore({ env, warn: request.warn });
  const creds = await store.getCredentials(session["user-key"]);
  const serviceAccount = creds !== undefined && isServiceAccountCredential(creds);
  if (request.system && creds && !serviceAccount) {
    throw new CliError(
      "SYSTEM_SERVICE_NEEDS_SERVICE_ACCOUNT",
      `--system needs a service-account session, but "${session.name}" is a person's login`,
      {
        hint: "Log in with a service-account key ('datumctl login --credentials <key.json>') " +
          "and pass its session with --session, or install without --system.",
        exitCode: ExitCode.config,
      },
    );
  }
  if (request.system && creds && Deno.build.os === "linux" && await store.kind() === "keychain") {
    throw new CliError(
      "SYSTEM_SERVICE_NEEDS_FILE_STORE",
      `--system needs the session's secret in a file, but "${session.name}" is in the keychain`,
      {
        hint: "A system service cannot reach a keychain at boot. Log in again with " +
          "DATUMCTL_CREDENTIALS_STORE=file 'datumctl login --credentials <key.json>'.",
        exitCode: ExitCode.config,
      },
    );
  }

  // (5) Writing system units and enabling them needs root.
  if (request.system && !request.dryRun && !(request.isRoot ?? isRootUser)()) {
    throw new CliError("SYSTEM_SERVICE_NEEDS_ROOT", "--system needs root", {
      hint: `Run it with sudo (the session must then be in root's config), or install a user ` +
        `service without --system.`,
      exitCode: ExitCode.noPermission,
    });
  }

  // (3) The session can mint a token now, and (4) may create tunnels in the project.
  const { resolveAuthContext } = await import("../../auth/resolve.ts");
  const auth = await resolveAuthContext({
    session: session.name,
    env,
    warn: request.warn,
    ignoreEnvironment: true,
  });
  await auth.tokens.accessToken();
  const label = request.label?.trim() || request.name;
  const client = new ApiClient({
    auth,
    baseUrl: projectControlPlaneUrl(auth.apiBase, resolved.projectId),
  });
  try {
    await client.create(
      TUNNEL_KINDS.HTTPProxy.path,
      httpProxyManifest(label, endpoint, "datumctl-install-check"),
      { dryRun: true },
    );
  } catch (err) {
    if (err instanceof ApiError && (err.httpStatus === 403 || err.httpStatus === 404)) {
      throw new CliError(
        "SERVICE_NOT_ALLOWED",
        `${auth.identity.email} may not create tunnels in project ${resolved.projectId}`,
        {
          hint: `The server refused a trial create (${err.message}). Ask an owner of the ` +
            `project for access, or pick another project with --project.`,
          exitCode: ExitCode.noPermission,
          cause: err,
        },
      );
    }
    throw err;
  }

  if (!serviceAccount && !request.system) {
    request.warn(
      `"${session.name}" is a person's login: the service stops when that login expires or is ` +
        `revoked. For unattended use, log in with a service-account key ` +
        `('datumctl login --credentials <key.json>') and pass --session.`,
    );
  }
  if (!request.system && Deno.build.os === "linux" && await store.kind() === "keychain") {
    request.warn(
      `"${session.name}" keeps its secret in the keychain, which a service may not reach ` +
        `without a desktop login; DATUMCTL_CREDENTIALS_STORE=file avoids that.`,
    );
  }

  const definition: ServiceDefinition = {
    name: request.name,
    label,
    endpoint,
    project: resolved.projectId,
    session: session.name,
    org: resolved.organizationId,
    api_host: apiHost(auth.apiBase),
    scope,
    created_at: new Date().toISOString(),
    created_by: auth.identity.email,
    inspect: request.inspect,
    ...(allowPeers.length > 0 ? { allow_peers: allowPeers } : {}),
  };
  const service = describeService(definition, env, manager);
  const systemdVersion = request.dryRun ? undefined : await managerVersion(service);
  const unit = renderServiceUnit(service, {
    command: request.command,
    env,
    systemdVersion,
  });
  return {
    service,
    definitionText: serializeServiceDefinition(definition),
    unitText: unit.text,
    unitBytes: unit.bytes,
    serviceAccount,
  };
}

function placeholder(name: string, scope: ServiceDefinition["scope"]): ServiceDefinition {
  return {
    name,
    scope,
    label: name,
    endpoint: "",
    project: "",
    session: "",
    api_host: "",
    created_at: "",
    created_by: "",
  };
}

/**
 * Writes the definition and the unit, reloads the manager and enables the service (and starts
 * it with `start`). On any failure, what was done is undone and the error rethrown.
 */
export async function applyInstall(
  plan: InstallPlan,
  options: { start: boolean; env: Env },
): Promise<void> {
  const svc = plan.service;
  await requireManager(svc, options.env);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    undo.push(() => removeServiceDefinition(svc.definition.name, options.env));
    await writeServiceDefinition(svc.definition, options.env);
    undo.push(() => Deno.remove(svc.unitPath));
    await writeUnit(svc.unitPath, plan.unitBytes);
    const commands = managerCommands(svc);
    // `enable --now` may enable and then fail to start: disable whatever it did.
    undo.push(async () => {
      for (const argv of commands.remove) await runManager(argv);
    });
    for (const argv of commands.install(options.start)) await mustRunManager(svc, argv);
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => {});
    for (const argv of managerCommands(svc).afterRemove) await runManager(argv).catch(() => {});
    throw err;
  }
}

async function writeUnit(path: string, bytes: Uint8Array): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await ensurePrivateDir(dir);
  // Units are configuration the manager reads (and, for system units, root-owned anyway):
  // 0644 like every other unit, written to a temp file and renamed into place.
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, bytes, { mode: 0o644 });
  try {
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
