/**
 * The service managers that run installed tunnels — systemd (Linux), launchd (macOS), Task
 * Scheduler (Windows) — behind one small set of operations, and the calls other commands use
 * for installed services (`tunnel stop`/`status --name N`).
 *
 * Install and uninstall also use the lower-level calls here: running the manager's commands,
 * requiring that the manager is present, and reading its version.
 */
import { CliError, ExitCode } from "../../core/errors.ts";
import { datumctlDir } from "../../store/paths.ts";
import {
  readServiceDefinition,
  type ServiceDefinition,
  serviceDefinitionPath,
  type ServiceScope,
} from "./definition.ts";
import {
  parseSystemdShow,
  parseSystemdVersion,
  systemdUnitDir,
  systemdUnitName,
} from "./systemd.ts";
import { launchdLabel, launchdPlistPath } from "./launchd.ts";
import { windowsTaskName } from "./windows.ts";

type Env = (name: string) => string | undefined;

/** Which service manager runs a tunnel service. */
export type ManagerKind = "systemd" | "launchd" | "windows";

/** An installed (or about to be installed) tunnel service and where its pieces live. */
export interface InstalledService {
  definition: ServiceDefinition;
  definitionPath: string;
  manager: ManagerKind;
  scope: ServiceScope;
  /** systemd unit name, launchd label or Task Scheduler task name. */
  unitName: string;
  /** The unit file, plist, or (Windows) the task XML datumctl keeps beside the definition. */
  unitPath: string;
}

/** What the manager says about a service. */
export interface ServiceState {
  /** True while the tunnel process runs (systemd ActiveState=active). */
  active: boolean;
  /** The manager's own words, e.g. `active/running`, `activating/auto-restart`, `failed/failed`. */
  state: string;
  mainPid?: number;
  /** One sentence for people. */
  detail: string;
}

/** The manager of this operating system; other systems get a configuration error (78). */
export function managerKindFor(os: string = Deno.build.os): ManagerKind {
  if (os === "linux") return "systemd";
  if (os === "darwin") return "launchd";
  if (os === "windows") return "windows";
  throw new CliError(
    "SERVICE_MANAGER_UNSUPPORTED",
    `tunnel services are not supported on ${os}`,
    {
      hint: "Run 'datumctl tunnel run --name N' under your own supervisor instead.",
      exitCode: ExitCode.config,
    },
  );
}

/** Where the pieces of `definition`'s service live under `manager`. */
export function describeService(
  definition: ServiceDefinition,
  env: Env = Deno.env.get,
  manager: ManagerKind = managerKindFor(),
): InstalledService {
  const { scope, name } = definition;
  const base = {
    definition,
    definitionPath: serviceDefinitionPath(name, env),
    manager,
    scope,
  };
  switch (manager) {
    case "systemd": {
      const unitName = systemdUnitName(scope, name);
      return { ...base, unitName, unitPath: `${systemdUnitDir(scope, env)}/${unitName}` };
    }
    case "launchd":
      return {
        ...base,
        unitName: launchdLabel(scope, name),
        unitPath: launchdPlistPath(scope, name, env),
      };
    case "windows":
      return {
        ...base,
        unitName: windowsTaskName(scope, name),
        unitPath: `${datumctlDir(env)}/services/${name}.task.xml`,
      };
  }
}

/** The installed service `name` (from its definition), or `undefined` when none is installed. */
export async function findInstalledService(
  name: string,
  env: Env = Deno.env.get,
): Promise<InstalledService | undefined> {
  const definition = await readServiceDefinition(name, env);
  return definition ? describeService(definition, env) : undefined;
}

function launchdTarget(svc: InstalledService): { domain: string; target: string } {
  const domain = svc.scope === "system" ? "system" : `gui/${Deno.uid() ?? 0}`;
  return { domain, target: `${domain}/${svc.unitName}` };
}

/** The argv of each manager operation for `svc` (pure, so tests can check them). */
export function managerCommands(svc: InstalledService) {
  switch (svc.manager) {
    case "systemd": {
      const ctl = ["systemctl", ...(svc.scope === "user" ? ["--user"] : [])];
      return {
        program: "systemctl",
        install: (start: boolean) => [
          [...ctl, "daemon-reload"],
          [...ctl, "enable", ...(start ? ["--now"] : []), svc.unitName],
        ],
        remove: [[...ctl, "disable", "--now", svc.unitName]],
        afterRemove: [[...ctl, "daemon-reload"]],
        start: [...ctl, "start", svc.unitName],
        stop: [...ctl, "stop", svc.unitName],
        state: [
          ...ctl,
          "show",
          "-p",
          "ActiveState,SubState,MainPID,Result,ExecMainStatus",
          svc.unitName,
        ],
      };
    }
    case "launchd": {
      const { domain, target } = launchdTarget(svc);
      return {
        program: "launchctl",
        // RunAtLoad starts it on bootstrap; without --now it loads at the next login or boot.
        install: (start: boolean) =>
          start ? [["launchctl", "bootstrap", domain, svc.unitPath]] : [],
        remove: [["launchctl", "bootout", target]],
        afterRemove: [] as string[][],
        start: ["launchctl", "kickstart", target],
        // SIGTERM: the tunnel disables itself and exits 0, which KeepAlive does not restart.
        stop: ["launchctl", "kill", "SIGTERM", target],
        state: ["launchctl", "print", target],
      };
    }
    case "windows":
      return {
        program: "schtasks",
        install: (start: boolean) => [
          ["schtasks", "/Create", "/TN", svc.unitName, "/XML", svc.unitPath, "/F"],
          ...(start ? [["schtasks", "/Run", "/TN", svc.unitName]] : []),
        ],
        remove: [["schtasks", "/End", "/TN", svc.unitName], [
          "schtasks",
          "/Delete",
          "/TN",
          svc.unitName,
          "/F",
        ]],
        afterRemove: [] as string[][],
        start: ["schtasks", "/Run", "/TN", svc.unitName],
        // Task Scheduler can only terminate: the tunnel cannot disable itself first.
        stop: ["schtasks", "/End", "/TN", svc.unitName],
        state: ["schtasks", "/Query", "/TN", svc.unitName, "/FO", "LIST", "/V"],
      };
  }
}

/** The output of one manager command. */
export interface ManagerResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function onPath(program: string, env: Env): Promise<boolean> {
  if (program.includes("/")) return true;
  const sep = Deno.build.os === "windows" ? ";" : ":";
  const exts = Deno.build.os === "windows" ? ["", ".exe"] : [""];
  for (const dir of (env("PATH") ?? "").split(sep).filter(Boolean)) {
    for (const ext of exts) {
      try {
        const info = await Deno.stat(`${dir}/${program}${ext}`);
        if (info.isFile) return true;
      } catch { /* not here */ }
    }
  }
  return false;
}

/**
 * Fails with exit 78 unless the manager's program is on PATH (no systemd: point at the
 * alternatives that need none).
 */
export async function requireManager(svc: InstalledService, env: Env = Deno.env.get) {
  const { program } = managerCommands(svc);
  if (await onPath(program, env)) return;
  const what = svc.manager === "systemd" ? "systemd" : svc.manager;
  throw new CliError(
    "SERVICE_MANAGER_MISSING",
    `${what} is not available on this machine (no ${program} on PATH)`,
    {
      hint:
        `Run the tunnel in the background with 'datumctl tunnel listen --detach --name ${svc.definition.name} …', ` +
        `or run 'datumctl tunnel run --name ${svc.definition.name}' under your own supervisor.`,
      exitCode: ExitCode.config,
    },
  );
}

/**
 * Runs one manager command and returns what it printed (never throws for a non-zero exit). The
 * program is looked up on `env`'s PATH, the same one {@link requireManager} checked.
 */
export async function runManager(argv: string[], env: Env = Deno.env.get): Promise<ManagerResult> {
  const path = env("PATH");
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      ...(path === undefined ? {} : { env: { PATH: path } }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${argv[0]}: command not found` };
    }
    throw err;
  }
}

/**
 * Runs a manager command and turns a failure into a `CliError`: no running systemd or no user
 * bus is a configuration error (78) with the way out; anything else is exit 1 with its message.
 */
export async function mustRunManager(
  svc: InstalledService,
  argv: string[],
  env: Env = Deno.env.get,
): Promise<string> {
  const res = await runManager(argv, env);
  if (res.code === 0) return res.stdout;
  const said = (res.stderr.trim() || res.stdout.trim()).split("\n")[0] || `exit ${res.code}`;
  const command = argv.join(" ");
  if (
    /not been booted with systemd|Failed to connect to bus|Failed to connect to user scope bus/i
      .test(res.stderr)
  ) {
    throw new CliError("SYSTEMD_NOT_RUNNING", `'${command}' failed: ${said}`, {
      hint: svc.scope === "user"
        ? "A user unit needs a running systemd user manager (log in, or 'loginctl enable-linger <user>' " +
          "to run it without a login). Otherwise use 'datumctl tunnel listen --detach --name " +
          `${svc.definition.name} …' or run 'datumctl tunnel run --name ${svc.definition.name}' under your own supervisor.`
        : "systemd is not running here (a container?). Use 'datumctl tunnel listen --detach --name " +
          `${svc.definition.name} …' or run 'datumctl tunnel run --name ${svc.definition.name}' under your own supervisor.`,
      exitCode: ExitCode.config,
    });
  }
  throw new CliError("SERVICE_MANAGER_FAILED", `'${command}' failed: ${said}`, {
    hint: "Fix what the service manager reports, then run the command again.",
    exitCode: ExitCode.error,
  });
}

/** The manager's version when it tells one (systemd's major version; undefined otherwise). */
export async function managerVersion(
  svc: InstalledService,
  env: Env = Deno.env.get,
): Promise<number | undefined> {
  if (svc.manager !== "systemd") return undefined;
  const res = await runManager(["systemctl", "--version"], env);
  return res.code === 0 ? parseSystemdVersion(res.stdout) : undefined;
}

/** Starts the installed service now (`systemctl [--user] start`, `launchctl kickstart`, …). */
export async function startService(
  svc: InstalledService,
  env: Env = Deno.env.get,
): Promise<void> {
  await mustRunManager(svc, managerCommands(svc).start, env);
}

/**
 * Stops the installed service now; it stays enabled (it starts again at the next boot or
 * login). systemd and launchd send SIGTERM, so the tunnel disables itself before it exits.
 */
export async function stopService(
  svc: InstalledService,
  env: Env = Deno.env.get,
): Promise<void> {
  await mustRunManager(svc, managerCommands(svc).stop, env);
}

const SYSTEMD_SENTENCES: Record<string, string> = {
  "active/running": "running",
  "activating/auto-restart": "waiting to restart after a failure",
  "activating/start": "starting",
  "deactivating/stop-sigterm": "stopping",
  "inactive/dead": "stopped",
  "failed/failed": "failed; it will not restart by itself",
};

/** What the manager says about `svc` now. */
export async function serviceState(
  svc: InstalledService,
  env: Env = Deno.env.get,
): Promise<ServiceState> {
  const out = await mustRunManager(svc, managerCommands(svc).state, env);
  if (svc.manager === "systemd") {
    const p = parseSystemdShow(out);
    const state = `${p.ActiveState ?? "unknown"}/${p.SubState ?? "unknown"}`;
    const pid = Number(p.MainPID);
    const mainPid = Number.isInteger(pid) && pid > 0 ? pid : undefined;
    let detail = SYSTEMD_SENTENCES[state] ?? state;
    if (mainPid) detail += ` (pid ${mainPid})`;
    const status = Number(p.ExecMainStatus);
    if (p.ActiveState !== "active" && Number.isInteger(status) && status > 0) {
      detail += `; last exit code ${status}`;
      if ([64, 65, 77, 78].includes(status)) detail += " (permanent: not restarted)";
    }
    return { active: p.ActiveState === "active", state, mainPid, detail };
  }
  if (svc.manager === "launchd") {
    const state = out.match(/^\s*state = (.+)$/m)?.[1]?.trim() ?? "unknown";
    const pid = Number(out.match(/^\s*pid = (\d+)$/m)?.[1]);
    const mainPid = Number.isInteger(pid) && pid > 0 ? pid : undefined;
    return {
      active: state === "running",
      state,
      mainPid,
      detail: mainPid ? `${state} (pid ${mainPid})` : state,
    };
  }
  const status = out.match(/^Status:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
  return { active: status === "Running", state: status, detail: status.toLowerCase() };
}
