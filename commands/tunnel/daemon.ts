/**
 * Named tunnels in the background: `tunnel listen --detach` (via {@link detachListen}),
 * `tunnel ps`, `tunnel status --name N`, `tunnel logs --name N [--follow]` and
 * `tunnel stop --name N`. They read the PID, status and log files a named tunnel's process keeps
 * in its folder (lib/tunnel/daemon/); a PID file whose process is gone is reported as dead,
 * never trusted.
 */
import { type Command, Option } from "commander";
import { type CommandContext, type RegisterInGroup, scopeInputs } from "../command-context.ts";
import { EXIT_CODES } from "./help.ts";
import { parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";
import { CliError, ExitCode, UsageError } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import type { InspectSettings } from "../../lib/tunnel/inspector/address.ts";

/** The flags `listen --detach` passes on. */
export interface DetachFlags {
  endpoint?: string;
  id?: string;
  label?: string;
  name?: string;
  session?: string;
  timeout: string;
  /** How long to wait for ready (`10s`; `0` returns at once). */
  wait: string;
  yes?: boolean;
  json: boolean;
  /** The request inspector's settings (`--inspect` and its companions), already checked. */
  inspect?: InspectSettings;
  /** `--allow-peer` ids, passed on to the background process. */
  allowPeer?: string[];
}

/** The named tunnel of `status|logs|stop`: the argument or `--name` (the same, when both). */
function requireName(positional: string | undefined, flag: string | undefined, what: string) {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new UsageError(
      `${what}: the name is given twice ("${positional}" and --name "${flag}")`,
      `Give it once: 'datumctl ${what} ${flag}'.`,
    );
  }
  const name = positional ?? flag;
  if (name === undefined) {
    throw new UsageError(
      `${what} needs a tunnel name`,
      `e.g. 'datumctl ${what} web'; 'datumctl tunnel ps --all' lists the names.`,
    );
  }
  return name;
}

/** No named tunnel of that name has ever run here, and no service of it is installed (64). */
function unknownName(name: string): CliError {
  return new CliError("TUNNEL_NAME_UNKNOWN", `named tunnel ${name} has never run here`, {
    hint:
      `'datumctl tunnel ps --all' lists the names; start it with 'datumctl tunnel listen --detach --name ${name} <endpoint>'.`,
    exitCode: ExitCode.rejected,
  });
}

/** The `[name]` argument `status|logs|stop` take (the same as `--name`). */
const NAME_ARGUMENT = ["[name]", "the named tunnel (or --name)"] as const;

/**
 * `tunnel listen --detach --name N …`: checks what can be checked here (name, scope, login, not
 * already running), starts the background process and waits up to ~10 s for it to be ready.
 */
export async function detachListen(
  ctx: CommandContext,
  cmd: Command,
  flags: DetachFlags,
): Promise<void> {
  const io = ctx.io;
  const name = flags.name;
  if (name === undefined) {
    throw new UsageError(
      "--detach needs --name",
      "A background tunnel is managed by its name: e.g. 'datumctl tunnel listen 8080 --name web --detach'.",
    );
  }
  if (flags.endpoint === undefined && flags.id === undefined) {
    throw new UsageError(
      "--detach needs an endpoint or --id",
      "There is no terminal to pick a tunnel on: e.g. 'datumctl tunnel listen 8080 --name web --detach'.",
    );
  }
  const [rec, { openTunnelProject }, { startDetachedTunnel }, { parseDuration }] = await Promise
    .all([
      import("../../lib/tunnel/daemon/record.ts"),
      import("../../lib/tunnel/open.ts"),
      import("../../lib/tunnel/daemon/detach.ts"),
      import("../../lib/tunnel/duration.ts"),
    ]);
  parseDuration(flags.timeout);
  const waitMs = parseDuration(flags.wait, "--wait");
  const files = rec.namedTunnelFiles(name, io.env);
  const before = await rec.inspectNamedTunnel(name, io.env);
  if (before.process === "running") {
    throw new CliError(
      "TUNNEL_LISTENER_RUNNING",
      `named tunnel ${name} is already running (pid ${before.pid?.pid})`,
      {
        hint:
          `See 'datumctl tunnel status --name ${name}'; stop it with 'datumctl tunnel stop --name ${name}'.`,
        exitCode: ExitCode.rejected,
      },
    );
  }
  const project = await openTunnelProject(
    { ...scopeInputs(cmd, io), session: flags.session },
    { name, warn: (m) => io.err(terminalLine(m)) },
  );
  const auth = project.client.auth;
  if (auth.kind === "session") {
    io.err(
      `warning: named tunnel ${name} runs on ${auth.identity.email}'s interactive login; it stops if that login is revoked or expires. For unattended tunnels, log in with a service account ('datumctl login --credentials FILE').\n`,
    );
  }
  if (!flags.json) io.err(`Starting named tunnel ${name} in the background...\n`);
  // The child serves what was resolved here (no scope rule, no argv to parse again).
  const outcome = await startDetachedTunnel({
    tunnel: {
      name,
      projectId: project.projectId,
      session: auth.sessionName,
      repo: project.repo,
      endpoint: flags.endpoint,
      id: flags.id,
      label: flags.label,
      timeout: flags.timeout,
      yes: !!flags.yes,
      allowPeer: flags.allowPeer ?? [],
      inspect: flags.inspect,
    },
    files,
    waitMs,
  });
  const status = outcome.status;
  if (outcome.kind === "failed") {
    const last = status?.last_error;
    throw new CliError(
      last?.code ?? "TUNNEL_DAEMON_FAILED",
      last?.message ??
        `the background process of named tunnel ${name} exited (code ${outcome.exitCode})`,
      {
        hint: last?.hint ?? `See 'datumctl tunnel logs --name ${name}'.`,
        exitCode: last?.exit_code ?? (outcome.exitCode || ExitCode.error),
      },
    );
  }
  const summary = {
    name,
    pid: outcome.pid,
    state: status?.state ?? "starting",
    ready: outcome.kind === "ready",
    url: status?.url ?? null,
    hostname: status?.hostname ?? null,
    tunnel_id: status?.tunnel_id ?? null,
    project: project.projectId,
    log: files.log,
  };
  if (flags.json) {
    io.out(JSON.stringify(summary) + "\n");
    return;
  }
  if (outcome.kind === "ready") {
    io.out(terminalLine(`Tunnel ready: ${status!.url}`));
    io.err(
      `Named tunnel ${name} is serving in the background (pid ${outcome.pid}).\n` +
        `  datumctl tunnel logs --name ${name} --follow\n  datumctl tunnel stop --name ${name}\n` +
        (flags.inspect !== undefined ? `  datumctl tunnel inspect --name ${name}\n` : ""),
    );
    return;
  }
  io.err(
    terminalLine(
      `Named tunnel ${name} is still setting up in the background (pid ${outcome.pid}${
        status?.hostname ? `, ${status.hostname}` : ""
      }).`,
    ) + `Run 'datumctl tunnel status --name ${name}' to see when it is ready.\n`,
  );
}

/** Every named tunnel with a folder here, and every installed service (which may not have run). */
async function allViews(ctx: CommandContext) {
  const [rec, { listServiceDefinitions }] = await Promise.all([
    import("../../lib/tunnel/daemon/record.ts"),
    import("../../lib/tunnel/services/definition.ts"),
  ]);
  const [folders, services] = await Promise.all([
    rec.listNamedTunnelNames(ctx.io.env),
    listServiceDefinitions(ctx.io.env),
  ]);
  const installed = new Set(services.map((d) => d.name));
  const names = [...new Set([...folders, ...installed])].sort();
  const [views, unnamed] = await Promise.all([
    Promise.all(names.map((n) => rec.inspectNamedTunnel(n, ctx.io.env))),
    rec.listUnnamedTunnels(ctx.io.env),
  ]);
  return [
    ...views.map((view) => ({ view, installed: installed.has(view.name) })),
    ...unnamed.map((view) => ({ view, installed: false })),
  ];
}

function registerPs(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("ps")
    .description("List the tunnels running on this machine (named ones, and unnamed listens)")
    .option("-a, --all", "also list named tunnels that are stopped")
    .addOption(new Option("-o, --output <format>", "json or yaml"))
    .addHelpText(
      "after",
      `
Columns: NAME PROJECT ENDPOINT HOSTNAME STATE PATH UPTIME PID. STATE is starting, ready or
stopping while the process runs; dead when its process is gone without having stopped (killed,
crashed, power loss: see 'tunnel status --name N'); with --all also stopped and failed ones and
installed services that have not run yet. -o json adds "installed" (a service is installed).
PATH is how the edge reaches this machine: direct or relay. An unnamed foreground
'tunnel listen' shows as (unnamed) while it runs ("name": null in JSON); stop it with Ctrl-C in
its terminal or 'kill PID' (it disables its tunnel first).

Examples:
  datumctl tunnel ps
  datumctl tunnel ps --all -o json | jq -r '.[] | select(.state=="dead") | .name'
${EXIT_CODES}`,
    )
    .action(async (flags: { all?: boolean; output?: string }) => {
      const io = ctx.io;
      const format = parseStructuredOutput(flags.output);
      const { psRows, renderPsTable } = await import("../../lib/ui/tunnel-records.ts");
      const views = await allViews(ctx);
      const rows = psRows(views.map((v) => v.view))
        .map((row, i) => ({ ...row, installed: views[i].installed }))
        .filter((r) => flags.all || !["stopped", "failed"].includes(r.state));
      if (format) {
        io.out(renderStructured(rows, format));
        return;
      }
      if (rows.length === 0) {
        io.err(
          flags.all
            ? "No tunnels on this machine.\n"
            : "No tunnels running. ('tunnel ps --all' lists stopped named ones too.)\n",
        );
        return;
      }
      io.out(await renderPsTable(rows));
    });
}

function registerStatus(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("status")
    .description("Show one named tunnel: state, URL, path, last error, and how to recover")
    .argument(...NAME_ARGUMENT)
    .option("--name <name>", "the named tunnel (same as the argument)")
    .addOption(new Option("-o, --output <format>", "json or yaml"))
    .addHelpText(
      "after",
      `
Exits 0 whenever it can tell the state (read "state" with -o json); 64 for a name that has
never run here.

Examples:
  datumctl tunnel status web
  datumctl tunnel status --name web -o json | jq -r .state
${EXIT_CODES}`,
    )
    .action(async (positional: string | undefined, flags: { name?: string; output?: string }) => {
      const io = ctx.io;
      const name = requireName(positional, flags.name, "tunnel status");
      const format = parseStructuredOutput(flags.output);
      const [rec, ui] = await Promise.all([
        import("../../lib/tunnel/daemon/record.ts"),
        import("../../lib/ui/tunnel-records.ts"),
      ]);
      const view = await rec.inspectNamedTunnel(name, io.env);
      const service = await installedServiceState(name, io.env);
      if (view.process === "new" && !service) throw unknownName(name);
      const [row] = ui.psRows([view]);
      if (format) {
        io.out(
          renderStructured({
            ...row,
            status: view.status ?? null,
            log: view.files.log,
            service: service ?? null,
          }, format),
        );
        return;
      }
      io.out(ui.renderStatusBlock(view, row));
      if (service) {
        io.out(
          terminalLine(
            `Service:   ${service.unit} (${service.manager} ${service.scope}): ${service.detail}`,
          ),
        );
      }
    });
}

function registerLogs(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("logs")
    .description("Show a named tunnel's log (JSON events, shown as lines)")
    .argument(...NAME_ARGUMENT)
    .option("--name <name>", "the named tunnel (same as the argument)")
    .option("-f, --follow", "keep printing new lines until Ctrl-C")
    .option("--tail <lines>", "only the last N lines (as in kubectl logs)")
    .option("--lines <lines>", "the same as --tail")
    // In datumctl -n is --namespace; here it is only caught to say which flag is meant.
    .addOption(new Option("-n <value>").hideHelp())
    .addOption(new Option("-o, --output <format>", "json: the raw JSON lines"))
    .addHelpText(
      "after",
      `
The log is <connect dir>/<name>/logs/tunnel.log, rotated at 10 MB with 5 files kept. Each line
is one event of the schema datumctl.tunnel.events/v1 (docs/tunnel-events.md), including one
"request" event per request served.

Examples:
  datumctl tunnel logs web
  datumctl tunnel logs web -f --tail 20
  datumctl tunnel logs --name web -o json | jq -c 'select(.type=="request")'
${EXIT_CODES}`,
    )
    .action(async (positional: string | undefined, flags: LogsFlags) => {
      const io = ctx.io;
      const name = requireName(positional, flags.name, "tunnel logs");
      const raw = flags.output !== undefined;
      if (raw && flags.output !== "json") {
        throw new UsageError(`unknown output format "${flags.output}"`, "Use -o json.");
      }
      const tail = tailLines(flags);
      const [rec, reader, { formatLogLine }] = await Promise.all([
        import("../../lib/tunnel/daemon/record.ts"),
        import("../../lib/tunnel/daemon/log-reader.ts"),
        import("../../lib/ui/tunnel-records.ts"),
      ]);
      const files = rec.namedTunnelFiles(name, io.env);
      const show = (line: string) => io.out((raw ? line : formatLogLine(line)) + "\n");
      const lines = await reader.readLogTail(files.log, tail);
      if (lines.length === 0 && !flags.follow) {
        const view = await rec.inspectNamedTunnel(name, io.env);
        if (view.process === "new") throw unknownName(name);
      }
      for (const line of lines) show(line);
      if (!flags.follow) return;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      const signals: Deno.Signal[] = Deno.build.os === "windows"
        ? ["SIGINT"]
        : ["SIGINT", "SIGTERM"];
      for (const s of signals) Deno.addSignalListener(s, onSignal);
      try {
        await reader.followLog(files.log, show, stop.signal);
      } finally {
        for (const s of signals) Deno.removeSignalListener(s, onSignal);
      }
    });
}

interface LogsFlags {
  name?: string;
  follow?: boolean;
  tail?: string;
  lines?: string;
  n?: string;
  output?: string;
}

/** `--tail N` (or `--lines N`): a whole number; `-n` is refused with the flag to use instead. */
function tailLines(flags: LogsFlags): number | undefined {
  if (flags.n !== undefined) {
    throw new UsageError(
      "tunnel logs has no -n (in datumctl -n means --namespace)",
      `Use --tail ${flags.n}, as with kubectl logs.`,
    );
  }
  if (flags.tail !== undefined && flags.lines !== undefined && flags.tail !== flags.lines) {
    throw new UsageError("--tail and --lines disagree", "Give one of them: e.g. --tail 50.");
  }
  const text = flags.tail ?? flags.lines;
  if (text === undefined) return undefined;
  const tail = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(tail)) {
    throw new UsageError(`--tail must be a whole number, not "${text}"`, "e.g. --tail 50");
  }
  return tail;
}

type Env = (name: string) => string | undefined;

async function installedService(name: string, env: Env) {
  const { findInstalledService } = await import("../../lib/tunnel/services/manager.ts");
  return await findInstalledService(name, env);
}

/** The installed service of `name` and what its manager says, when there is one. */
async function installedServiceState(name: string, env: Env) {
  const svc = await installedService(name, env);
  if (!svc) return undefined;
  const manager = await import("../../lib/tunnel/services/manager.ts");
  const base = { unit: svc.unitName, manager: svc.manager, scope: svc.scope, path: svc.unitPath };
  try {
    await manager.requireManager(svc, env);
    const state = await manager.serviceState(svc);
    return { ...base, active: state.active, state: state.state, detail: state.detail };
  } catch (err) {
    return { ...base, active: false, state: "unknown", detail: (err as Error).message };
  }
}

/** How long `stop` waits for the process to disable its tunnel and exit. */
const STOP_WAIT_MS = 45_000;

function registerStop(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("stop")
    .description("Stop a named tunnel: disable it, then end its process")
    .argument(...NAME_ARGUMENT)
    .option("--name <name>", "the named tunnel (same as the argument)")
    .addOption(new Option("-o, --output <format>", "json or yaml"))
    .addHelpText(
      "after",
      `
An installed service is stopped through systemd (or launchd, Task Scheduler) and stays
installed. Otherwise a running tunnel gets SIGTERM: it disables its tunnel (the hostname is
kept) and exits. A dead
one (its process was killed) has its tunnel disabled here and its PID file removed. Stopping a
tunnel that is not running changes nothing and exits 0; a name that has never run here (and
is not installed) exits 64.

Examples:
  datumctl tunnel stop web
${EXIT_CODES}`,
    )
    .action(async (positional: string | undefined, flags: StopFlags, cmd: Command) => {
      const io = ctx.io;
      const name = requireName(positional, flags.name, "tunnel stop");
      const format = parseStructuredOutput(flags.output);
      const [rec, { isSameProcessAlive }, { abortableSleep }] = await Promise.all([
        import("../../lib/tunnel/daemon/record.ts"),
        import("../../lib/tunnel/daemon/process.ts"),
        import("../../lib/tunnel/quota.ts"),
      ]);
      const view = await rec.inspectNamedTunnel(name, io.env);
      const report = (result: Record<string, unknown>, text: string) => {
        if (format) io.out(renderStructured({ name, ...result }, format));
        else io.out(terminalLine(text));
      };
      // An installed service is stopped through its manager, so it is not restarted behind us.
      const svc = await installedService(name, io.env);
      if (svc) {
        const manager = await import("../../lib/tunnel/services/manager.ts");
        await manager.requireManager(svc, io.env);
        const state = await manager.serviceState(svc);
        if (state.active) {
          if (!format) io.err(`Stopping service ${svc.unitName}...\n`);
          await manager.stopService(svc);
          const after = await rec.inspectNamedTunnel(name, io.env);
          report(
            {
              stopped: true,
              service: svc.unitName,
              pid: state.mainPid ?? null,
              tunnel_id: after.status?.tunnel_id ?? null,
              disabled: after.status?.state === "stopped",
            },
            `Stopped service ${svc.unitName}${
              after.status?.tunnel_id ? `; tunnel ${after.status.tunnel_id} disabled` : ""
            }. It starts again at boot/login; 'datumctl tunnel uninstall --name ${name}' removes it.`,
          );
          return;
        }
      }
      if (view.process === "running" && view.pid) {
        const pid = view.pid;
        if (!format) io.err(`Stopping named tunnel ${name} (pid ${pid.pid})...\n`);
        Deno.kill(pid.pid, "SIGTERM");
        const deadline = Date.now() + STOP_WAIT_MS;
        while (await isSameProcessAlive(pid.pid, pid.start)) {
          if (Date.now() > deadline) {
            throw new CliError(
              "TUNNEL_STOP_TIMEOUT",
              `named tunnel ${name} (pid ${pid.pid}) did not stop within ${STOP_WAIT_MS / 1000} s`,
              {
                hint:
                  `It may still be disabling its tunnel; run 'datumctl tunnel stop --name ${name}' again, or 'kill -9 ${pid.pid}' and then stop it once more.`,
                exitCode: ExitCode.tempFail,
                retryable: true,
              },
            );
          }
          await abortableSleep(100);
        }
        const after = await rec.inspectNamedTunnel(name, io.env);
        const disabled = after.status?.state === "stopped" || after.status?.state === "failed";
        report(
          { stopped: true, pid: pid.pid, tunnel_id: after.status?.tunnel_id ?? null, disabled },
          `Stopped named tunnel ${name}${
            after.status?.tunnel_id ? `; tunnel ${after.status.tunnel_id} disabled` : ""
          }.`,
        );
        return;
      }
      if (view.process === "dead") {
        const tunnelId = view.status?.tunnel_id;
        const projectId = view.status?.project;
        let disabled = false;
        if (tunnelId && projectId) {
          const { openTunnelProject, machineService } = await import("../../lib/tunnel/open.ts");
          const project = await openTunnelProject(
            { ...scopeInputs(cmd, io), project: projectId, organization: undefined },
            { name, warn: (m) => io.err(terminalLine(m)) },
          );
          const service = await machineService(project);
          await service.setEnabled(tunnelId, false);
          disabled = true;
        }
        await rec.removePidRecord(view.files, view.pid!.pid);
        await rec.markStopped(view.files, "dead process cleaned up by 'tunnel stop'");
        report(
          { stopped: true, pid: view.pid!.pid, tunnel_id: tunnelId ?? null, disabled, was: "dead" },
          `Named tunnel ${name} was dead (pid ${view.pid!.pid} is gone)${
            disabled ? `; disabled tunnel ${tunnelId}` : ""
          } and its record cleared.`,
        );
        return;
      }
      if (view.process === "new" && !svc) throw unknownName(name);
      report({ stopped: false, was: view.process }, `Named tunnel ${name} is not running.`);
    });
}

interface StopFlags {
  name?: string;
  output?: string;
}

/** Adds `tunnel ps|status|logs|stop` to the `tunnel` group. */
export const register: RegisterInGroup = (tunnel, ctx) => {
  registerPs(tunnel, ctx);
  registerStatus(tunnel, ctx);
  registerLogs(tunnel, ctx);
  registerStop(tunnel, ctx);
};
