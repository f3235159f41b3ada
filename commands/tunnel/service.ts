/**
 * `datumctl tunnel install | uninstall | start | run`: a named tunnel as a system service
 * (systemd unit on Linux, launchd job on macOS, Task Scheduler task on Windows) that starts at
 * boot or login, restarts after a failure with a growing delay, and stays stopped after a clean
 * exit or a permanent error. The unit only says `tunnel run --name N`; everything else lives in
 * the definition `~/.datumctl/services/<N>.yaml`.
 *
 * `tunnel stop` and `tunnel status` (./daemon.ts) cover services through
 * lib/tunnel/services/manager.ts.
 */
import { type Command, Option } from "commander";
import type { CommandContext, RegisterInGroup } from "../command-context.ts";
import { scopeInputs } from "../command-context.ts";
import { EXIT_CODES } from "./help.ts";
import { parseStructuredOutput, renderStructured, successLine } from "../../lib/ui/output.ts";
import { CliError, ExitCode, UsageError } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";

const SERVICE_EXIT_CAUSES = `
For services, besides the table in 'datumctl tunnel --help':
  2    install: a malformed --allow-peer id (or DATUMCTL_TUNNEL_ALLOWED_PEERS)
  64   install: a service of that name exists; uninstall: none is installed; run: the
       tunnel's backend was changed on the server (the service never follows it)
  65   ~/.datumctl/services/<name>.yaml does not parse (it is never overwritten)
  77   the session cannot mint a token or may not create tunnels in the project; --system
       without root
  78   --system with a person's login instead of a service account; no systemd (or no
       running user manager); 'run' with no installed definition`;

const MANAGERS = ["systemd", "launchd", "windows"] as const;

function nameOption(): Option {
  return new Option("--name <name>", "the named tunnel (lowercase letters, digits, dashes)")
    .makeOptionMandatory();
}

function systemOption(): Option {
  return new Option("--system", "a system service (root; starts at boot) instead of a user one");
}

function warnTo(ctx: CommandContext) {
  return (message: string) => ctx.io.err(terminalLine(`warning: ${message}`));
}

function registerInstall(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("install")
    .description("Install a named tunnel as a service that starts at boot/login and restarts")
    .addOption(nameOption())
    .requiredOption("--endpoint <endpoint>", "the local service: a port, host:port or URL")
    .option("--label <label>", "the tunnel's label (default: its name)")
    .option("--session <session>", "the login the service uses (default: the active session)")
    .addOption(systemOption())
    .option("--no-start", "enable it without starting it now")
    .option("--dry-run", "run the checks and print the unit and definition; write nothing")
    .option("--inspect [addr]", "serve the request inspector (127.0.0.1:4040, or ADDR)")
    .option(
      "--allow-peer <id>",
      "serve only this iroh peer (endpoint id; repeatable); kept in the definition",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option("--platform <manager>", "with --dry-run: render for this service manager")
        .choices([...MANAGERS]),
    )
    .addOption(new Option("-o, --output <format>", "json or yaml"))
    .addHelpText(
      "after",
      `
Writes ~/.datumctl/services/<name>.yaml (endpoint, label, project, session, ...) and a unit
that runs 'datumctl tunnel run --name <name>':
  systemd (Linux)   ~/.config/systemd/user/datumctl-connect-user-<name>.service, or with
                    --system /etc/systemd/system/datumctl-connect-system-<name>.service
  launchd (macOS)   ~/Library/LaunchAgents or /Library/LaunchDaemons
  Windows           a Task Scheduler task (at logon, or at boot as SYSTEM with --system)
then enables and starts it. The project comes from --project, DATUM_PROJECT or the context.

Before writing anything it checks that the name is free, the session exists and can mint a
token now, --system has a service-account session and root, and the identity may create
tunnels in the project (a server-side dry run). A failure leaves nothing behind.

--allow-peer ID (repeatable) and DATUMCTL_TUNNEL_ALLOWED_PEERS=ID,ID at install time are kept
in the definition (allow_peers): the service serves only those iroh peers and refuses every
other one when it connects, as 'tunnel listen --allow-peer' does.

Restarts: after a failure, 5 s growing to 60 s (systemd 254+; older systemd: every 5 s); never
after exit 0 or a permanent error (64, 65, 77, 78). A user unit runs while you are logged in;
'loginctl enable-linger <user>' lets it start at boot.

Examples:
  datumctl tunnel install --name web --endpoint 3000
  datumctl login --credentials ci-key.json
  sudo datumctl tunnel install --name ollama --endpoint localhost:11434 --system \\
    --session ci-deployer@acme-corp.iam.datumapis.com@api.datum.net --project infra
  datumctl tunnel install --name web --endpoint 3000 --dry-run
  datumctl tunnel install --name web --endpoint 3000 --allow-peer <edge endpoint id>
  datumctl tunnel install --name web --endpoint 3000 --dry-run --platform launchd -o json
${SERVICE_EXIT_CAUSES}
${EXIT_CODES}`,
    )
    .action(async (flags: InstallFlags, cmd: Command) => {
      await installAction(ctx, cmd, flags);
    });
}

interface InstallFlags {
  name: string;
  endpoint: string;
  label?: string;
  session?: string;
  system?: boolean;
  start: boolean;
  dryRun?: boolean;
  platform?: (typeof MANAGERS)[number];
  output?: string;
  inspect?: string | boolean;
  allowPeer?: string[];
}

/** `--inspect [ADDR]` as the definition stores it (`on` or the checked address). */
async function inspectValue(value: string | boolean | undefined): Promise<string | undefined> {
  if (value === undefined) return undefined;
  const { parseInspectAddress } = await import("../../lib/tunnel/inspector/address.ts");
  parseInspectAddress(value);
  return value === true ? "on" : String(value);
}

async function installAction(ctx: CommandContext, cmd: Command, flags: InstallFlags) {
  const io = ctx.io;
  const format = parseStructuredOutput(flags.output);
  if (flags.platform && !flags.dryRun) {
    throw new UsageError(
      "--platform only works with --dry-run",
      "A service is installed for this machine's own service manager.",
    );
  }
  const [{ planInstall, applyInstall }, { selfCommand }] = await Promise.all([
    import("../../lib/tunnel/services/install.ts"),
    import("../../lib/process/self-command.ts"),
  ]);
  const plan = await planInstall({
    name: flags.name,
    endpoint: flags.endpoint,
    label: flags.label,
    session: flags.session,
    scope: scopeInputs(cmd, io),
    system: !!flags.system,
    dryRun: !!flags.dryRun,
    command: selfCommand(),
    manager: flags.platform,
    warn: warnTo(ctx),
    inspect: await inspectValue(flags.inspect),
    allowPeers: flags.allowPeer,
  });
  const svc = plan.service;
  const document = {
    name: svc.definition.name,
    scope: svc.scope,
    manager: svc.manager,
    dry_run: !!flags.dryRun,
    started: !flags.dryRun && flags.start,
    unit: { name: svc.unitName, path: svc.unitPath, content: plan.unitText },
    definition: { path: svc.definitionPath, content: plan.definitionText, ...svc.definition },
  };
  if (flags.dryRun) {
    if (format) return io.out(renderStructured(document, format));
    io.out(`# ${svc.unitPath}\n${plan.unitText}\n# ${svc.definitionPath}\n${plan.definitionText}`);
    io.err("Dry run: nothing was written.\n");
    return;
  }
  await applyInstall(plan, { start: flags.start, env: io.env });
  if (format) return io.out(renderStructured(document, format));
  const name = svc.definition.name;
  io.out(successLine(
    io,
    `Installed tunnel service ${name} (${svc.manager} ${svc.scope}, ${svc.unitName})` +
      (flags.start ? " and started it" : "; start it with 'datumctl tunnel start --name " +
        `${name}'`),
  ));
  io.out(`  definition: ${svc.definitionPath}\n  unit:       ${svc.unitPath}\n`);
  const tips = [`Status: datumctl tunnel status --name ${name}`];
  if (svc.manager === "systemd") {
    tips.push(
      `Logs:   journalctl ${svc.scope === "user" ? "--user " : ""}-u ${svc.unitName} -f`,
    );
    const user = io.env("USER") ?? io.env("LOGNAME");
    if (svc.scope === "user" && user && !(await lingering(user))) {
      tips.push(
        `It runs while ${user} is logged in; 'loginctl enable-linger ${user}' starts it at boot.`,
      );
    }
  }
  io.err(tips.join("\n") + "\n");
}

async function lingering(user: string): Promise<boolean> {
  try {
    await Deno.stat(`/var/lib/systemd/linger/${user}`);
    return true;
  } catch {
    return false;
  }
}

function registerUninstall(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("uninstall")
    .description("Stop and remove a tunnel service (--purge: also delete its tunnel)")
    .addOption(nameOption())
    .addOption(systemOption())
    .option("--purge", "also delete its tunnels on the server and its local folder (key, state)")
    .addOption(new Option("-o, --output <format>", "json or yaml"))
    .addHelpText(
      "after",
      `
Stops the service (the tunnel disables itself), disables it, and removes the unit and
~/.datumctl/services/<name>.yaml. The tunnel and its hostname stay on the server, so a later
install of the same name gets them back, unless --purge: then the named tunnel's tunnels are
deleted on the server and its folder (iroh key, state, logs) is removed.

Examples:
  datumctl tunnel uninstall --name web
  sudo datumctl tunnel uninstall --name ollama --system --purge
${SERVICE_EXIT_CAUSES}
${EXIT_CODES}`,
    )
    .action(
      async (flags: { name: string; system?: boolean; purge?: boolean; output?: string }) => {
        const io = ctx.io;
        const format = parseStructuredOutput(flags.output);
        const { uninstallService } = await import("../../lib/tunnel/services/uninstall.ts");
        const result = await uninstallService({
          name: flags.name,
          system: !!flags.system,
          purge: !!flags.purge,
          env: io.env,
          warn: warnTo(ctx),
        });
        if (format) return io.out(renderStructured(result, format));
        io.out(successLine(io, `Uninstalled tunnel service ${result.name} (${result.scope})`));
        if (result.unitRemoved) io.out(`  removed ${result.unitPath}\n`);
        if (result.definitionRemoved) io.out(`  removed ${result.definitionPath}\n`);
        for (const id of result.deletedTunnels) io.out(`  deleted tunnel ${id}\n`);
        if (result.folderRemoved) io.out(`  removed ${result.folderRemoved}\n`);
      },
    );
}

function registerStart(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("start")
    .description("Start an installed tunnel service now")
    .addOption(nameOption())
    .addHelpText(
      "after",
      `
Asks the service manager to start it (systemctl [--user] start, launchctl kickstart,
schtasks /Run). Stop it with 'datumctl tunnel stop --name <name>'; see it with
'datumctl tunnel status --name <name>'.

Examples:
  datumctl tunnel start --name web
${SERVICE_EXIT_CAUSES}
${EXIT_CODES}`,
    )
    .action(async (flags: { name: string }) => {
      const io = ctx.io;
      const { findInstalledService, requireManager, startService } = await import(
        "../../lib/tunnel/services/manager.ts"
      );
      const svc = await findInstalledService(flags.name, io.env);
      if (!svc) throw notInstalled(flags.name);
      await requireManager(svc, io.env);
      await startService(svc);
      io.out(successLine(io, `Started tunnel service ${flags.name} (${svc.unitName})`));
    });
}

function notInstalled(name: string): CliError {
  return new CliError("SERVICE_NOT_INSTALLED", `no tunnel service named "${name}" is installed`, {
    hint: `Install it with 'datumctl tunnel install --name ${name} --endpoint <endpoint>'.`,
    exitCode: ExitCode.config,
  });
}

function registerRun(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("run")
    .description("Serve an installed tunnel in the foreground (what its service unit runs)")
    .addOption(nameOption())
    .addHelpText(
      "after",
      `
Loads ~/.datumctl/services/<name>.yaml and serves that tunnel with the session it names (and
only its allow_peers, when it lists any), writing one JSON event per line to stdout (schema datumctl.tunnel.events/v1; journald keeps
them). SIGTERM disables the tunnel and exits 0. Run it under any supervisor (a container
entrypoint, runit, supervisord) as the unit does.

The definition's endpoint is the only target: when someone changes the tunnel's backend on the
server, a running service answers the edge 403 for the new target and a restarted one stops
with exit 64 (TUNNEL_RETARGETED) without dialling it. Reinstall, or point it back with
'datumctl tunnel update --name <name> --id ID --endpoint <endpoint>'.

Examples:
  datumctl tunnel run --name web
  datumctl tunnel run --name web | jq -c 'select(.type=="ready")'
${SERVICE_EXIT_CAUSES}
${EXIT_CODES}`,
    )
    .action(async (flags: { name: string }, cmd: Command) => {
      const io = ctx.io;
      const [{ readServiceDefinition }, { definitionEnvironment }, { serveTunnel }] = await Promise
        .all([
          import("../../lib/tunnel/services/definition.ts"),
          import("../../lib/tunnel/services/environment.ts"),
          import("./listen.ts"),
        ]);
      const definition = await readServiceDefinition(flags.name, io.env);
      if (!definition) throw notInstalled(flags.name);
      // The definition's session and folder, whatever DATUM_TOKEN or the shell says.
      const served = { ...ctx, io: { ...io, env: definitionEnvironment(definition, io.env) } };
      await serveTunnel(served, cmd, {
        endpoint: definition.endpoint,
        label: definition.label,
        name: definition.name,
        json: true,
        project: definition.project,
        session: definition.session,
        mode: "service",
        allowPeer: definition.allow_peers,
        inspect: definition.inspect === undefined ? undefined : (await import(
          "../../lib/tunnel/inspector/address.ts"
        )).inspectSettings({ inspect: definition.inspect === "on" ? true : definition.inspect }),
      });
    });
}

/** Adds `install`, `uninstall`, `start` and `run` to the `tunnel` group. */
export const register: RegisterInGroup = (tunnel, ctx) => {
  registerInstall(tunnel, ctx);
  registerUninstall(tunnel, ctx);
  registerStart(tunnel, ctx);
  registerRun(tunnel, ctx);
};
