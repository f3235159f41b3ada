/**
 * `tunnel uninstall`: stop and disable the service, remove its unit and definition, and with
 * `--purge` also delete the named tunnel's tunnels on the control plane and its local folder
 * (iroh key, state, logs). The server is purged before anything local goes, so a purge that
 * fails (network, permission) can simply be run again.
 */
import { pathExists } from "../../store/files.ts";
import { connectDir } from "../../store/paths.ts";
import { CliError, ExitCode } from "../../core/errors.ts";
import { namedTunnelDir } from "../keys.ts";
import {
  readServiceDefinition,
  removeServiceDefinition,
  type ServiceDefinition,
  type ServiceScope,
} from "./definition.ts";
import { definitionEnvironment } from "./environment.ts";
import {
  describeService,
  type InstalledService,
  managerCommands,
  type ManagerKind,
  mustRunManager,
  requireManager,
  runManager,
} from "./manager.ts";

type Env = (name: string) => string | undefined;

/** What `tunnel uninstall` was asked to do. */
export interface UninstallRequest {
  name: string;
  /** `--system`: expect (or, without a definition, look for) a system service. */
  system: boolean;
  purge: boolean;
  env: Env;
  manager?: ManagerKind;
  isRoot?: () => boolean;
  warn: (message: string) => void;
}

/** What was removed. */
export interface UninstallResult {
  name: string;
  scope: ServiceScope;
  unitPath: string;
  unitRemoved: boolean;
  definitionPath: string;
  definitionRemoved: boolean;
  /** Tunnel ids deleted on the control plane (`--purge`). */
  deletedTunnels: string[];
  /** The named tunnel's folder, when `--purge` removed it. */
  folderRemoved?: string;
}

async function purgeServer(
  definition: ServiceDefinition,
  env: Env,
  warn: (message: string) => void,
): Promise<string[]> {
  const { openTunnelProject, readOnlyService } = await import("../open.ts");
  const project = await openTunnelProject({
    project: definition.project,
    session: definition.session,
    env: definitionEnvironment(definition, env),
  }, { name: definition.name, warn });
  const service = await readOnlyService(project);
  if (!service) return [];
  const deleted: string[] = [];
  for (const tunnel of await service.list()) {
    if (await service.delete(tunnel.id, (m) => warn(m))) deleted.push(tunnel.id);
  }
  return deleted;
}

/** Uninstalls service `name` (see the module comment); exit 64 when nothing is installed. */
export async function uninstallService(request: UninstallRequest): Promise<UninstallResult> {
  const { env } = request;
  const definition = await readServiceDefinition(request.name, env);
  const scope: ServiceScope = definition?.scope ?? (request.system ? "system" : "user");
  if (definition && request.system && definition.scope !== "system") {
    throw new CliError(
      "SERVICE_SCOPE_MISMATCH",
      `the tunnel service "${request.name}" is a user service, not a system one`,
      {
        hint: `Run 'datumctl tunnel uninstall --name ${request.name}' without --system.`,
        exitCode: ExitCode.rejected,
      },
    );
  }
  const svc: InstalledService = describeService(
    definition ?? {
      name: request.name,
      scope,
      label: request.name,
      endpoint: "",
      project: "",
      session: "",
      api_host: "",
      created_at: "",
      created_by: "",
    },
    env,
    request.manager,
  );
  const unitExists = await pathExists(svc.unitPath);
  if (!definition && !unitExists) {
    throw new CliError(
      "SERVICE_NOT_INSTALLED",
      `no tunnel service named "${request.name}" is installed`,
      {
        hint: "Run 'datumctl tunnel ps' to see named tunnels; a system service needs --system.",
        exitCode: ExitCode.rejected,
      },
    );
  }
  if (request.purge && !definition) {
    throw new CliError(
      "SERVICE_DEFINITION_MISSING",
      `cannot purge "${request.name}": its definition (${svc.definitionPath}) is gone, so its project is unknown`,
      {
        hint:
          `Run it without --purge, then delete the tunnel with 'datumctl tunnel delete --name ${request.name} --id <id>'.`,
        exitCode: ExitCode.config,
      },
    );
  }
  if (scope === "system" && !(request.isRoot ?? (() => Deno.uid() === 0))()) {
    throw new CliError("SYSTEM_SERVICE_NEEDS_ROOT", "removing a system service needs root", {
      hint: "Run it with sudo.",
      exitCode: ExitCode.noPermission,
    });
  }

  const commands = managerCommands(svc);
  if (unitExists) {
    await requireManager(svc, env);
    // Stop first: SIGTERM lets the tunnel disable itself on the control plane.
    for (const argv of commands.remove) await mustRunManager(svc, argv);
  }
  const deletedTunnels = request.purge && definition
    ? await purgeServer(definition, env, request.warn)
    : [];
  if (unitExists) {
    await Deno.remove(svc.unitPath);
    for (const argv of commands.afterRemove) {
      const res = await runManager(argv);
      if (res.code !== 0) request.warn(`'${argv.join(" ")}' failed: ${res.stderr.trim()}`);
    }
  }
  const definitionRemoved = await removeServiceDefinition(request.name, env);
  let folderRemoved: string | undefined;
  if (request.purge && definition) {
    const folder = namedTunnelDir(request.name, definitionEnvironment(definition, env));
    // Only ever a folder below the connect root, never the root itself.
    if (folder.startsWith(`${connectDir(definitionEnvironment(definition, env))}/`)) {
      await Deno.remove(folder, { recursive: true }).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
      folderRemoved = folder;
    }
  }
  return {
    name: request.name,
    scope,
    unitPath: svc.unitPath,
    unitRemoved: unitExists,
    definitionPath: svc.definitionPath,
    definitionRemoved,
    deletedTunnels,
    folderRemoved,
  };
}
