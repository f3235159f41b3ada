/**
 * `datumctl tunnel`: expose a local service at a public HTTPS URL through a peer-to-peer iroh
 * tunnel — `listen` (foreground), `list`, `update`, `delete`. The project comes from the normal
 * scope rule (`--project` → `DATUM_PROJECT` → `--context` → the current context).
 *
 * Everything heavy (credentials, the tunnel engine, prompts) is imported inside the actions.
 */
import { Command, Option } from "commander";
import { type CommandContext, type RegisterCommands, scopeInputs } from "./context.ts";
import { parseOutputFormat, parseStructuredOutput, renderStructured } from "../lib/ui/output.ts";
import { UsageError } from "../lib/ui/errors.ts";
import type { IO } from "../lib/ui/io.ts";

/** The tunnel commands' exit codes, for every tunnel command's help. */
export const EXIT_CODES = `
Exit codes (sysexits, the same for every tunnel command):
  0    success; also a clean Ctrl-C/SIGTERM stop (the tunnel is disabled first)
  1    generic runtime error (e.g. no project selected anywhere)
  2    misuse: invalid flag or value, missing or conflicting options, nothing to choose
       without a terminal
  64   rejected on meaning: no such tunnel, --id and --endpoint disagree, a name already
       served or installed, a tunnel deleted on the server
  65   data error: a malformed local file (listen_key, state.yml, endpoint.yml, a service
       definition) or server answer; the file is left as it is
  69   service unavailable: control plane unreachable or failing (retryable)
  75   temporary failure: still provisioning or not yet reachable within --timeout, or a
       stop still in progress (retryable)
  77   permission denied: not logged in, login expired or revoked, not allowed in the
       project, --system without root
  78   configuration: install --system without a service-account session, no service
       definition or service manager, iroh DNS owned by another Connector
       (DeferredToOwner), no tunnel engine for this platform
A supervisor should restart on 69 and 75 and stop on 64, 65, 77 and 78.`;

const ENVIRONMENT = `
Environment:
  DATUM_PROJECT                 the project for one command (like --project)
  DATUM_CONNECT_REPO            data folder shared with datum-connect (like --repo)
  DATUM_CONNECT_RELAY_URLS      iroh relays to use instead of Datum's (comma/space separated)
  DATUMCTL_TUNNEL_RELAY         datum | disabled | relay URLs; wins over the above. Relays are
                                disabled by default when the API is on a loopback address
  DATUMCTL_TUNNEL_BIND          ip:port for the agent's UDP socket
  DATUMCTL_TUNNEL_GATEWAY       send the public-URL check to this local gateway with the
                                tunnel's hostname as Host (the local stack's "gateway")
  DATUMCTL_TUNNEL_ALLOWED_PEERS endpoint ids (comma-separated) of the only iroh peers served,
                                like --allow-peer
  DATUM_CONNECT_CREATE_TRAFFIC_PROTECTION_POLICIES=1  also create an OWASP policy per tunnel`;

function repoFlag(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { repo?: string }).repo;
}

async function openProject(cmd: Command, io: IO, name?: string) {
  const { openTunnelProject } = await import("../lib/tunnel/open.ts");
  return await openTunnelProject(scopeInputs(cmd, io), {
    repo: repoFlag(cmd),
    name,
    warn: (m) => io.err(`${m}\n`),
  });
}

/** DATUMCTL_CONNECTOR_CLASS: force a ConnectorClass instead of discovering it. */
function connectorClassFrom(io: IO): string | undefined {
  return io.env("DATUMCTL_CONNECTOR_CLASS")?.trim() || undefined;
}

/** `--name N`: act as named tunnel N (its own identity and state folder, see `listen`). */
function nameOption(): Option {
  return new Option("--name <name>", "act as named tunnel N (its own identity and state folder)");
}

function outputOption(): Option {
  return new Option("-o, --output <format>", "json or yaml (listen: json lines)");
}

function registerList(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("list")
    .alias("ls")
    .description("List this machine's tunnels in the project (changes nothing on the server)")
    .addOption(nameOption())
    .addOption(outputOption())
    .addHelpText(
      "after",
      `
Shows the tunnels whose backend is this machine's Connector for the project (with --name N,
named tunnel N's Connector):
  <id> [ready|accepted|pending] <label> -> <endpoint>
    hostname: <hostname>
    status: enabled|disabled, <state>

Examples:
  datumctl tunnel list
  datumctl tunnel list --project web-app -o json
  datumctl tunnel list --name ollama
${EXIT_CODES}`,
    )
    .action(async (flags: { name?: string; output?: string }, cmd: Command) => {
      const io = ctx.io;
      const format = parseStructuredOutput(flags.output);
      const project = await openProject(cmd, io, flags.name);
      const { readOnlyService } = await import("../lib/tunnel/open.ts");
      const service = await readOnlyService(project);
      const tunnels = service ? await service.list() : [];
      if (format) {
        io.out(renderStructured(tunnels, format));
        return;
      }
      const { renderTunnelList } = await import("../lib/ui/tunnel.ts");
      io.out(renderTunnelList(tunnels));
    });
}

function registerListen(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("listen")
    .description("Serve a local service at a public HTTPS URL until Ctrl-C")
    .argument("[endpoint]", "the local service: a port (8080), host:port or http://host:port")
    .option("--endpoint <endpoint>", "the local service (same as the argument)")
    .option("--id <id>", "resume this tunnel (keeps its hostname)")
    .option("--label <label>", "label for a new tunnel (default: 12 random hex characters)")
    .option("--name <name>", "run as named tunnel N: its own iroh identity and state folder")
    .option("-d, --detach", "run in the background (needs --name); see 'tunnel ps'")
    .option(
      "--wait <duration>",
      "with --detach: how long to wait for ready (0: return at once)",
      "10s",
    )
    .option("--session <name>", "use this stored session instead of the context's")
    .addOption(new Option("--daemon-child", "internal: the process --detach starts").hideHelp())
    .option("--timeout <duration>", "time allowed for the whole setup, checks included", "10m")
    .option("-y, --yes", "relabel an existing tunnel without asking")
    .option(
      "--allow-peer <id>",
      "serve only this iroh peer (endpoint id, 64 hex); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(outputOption())
    .addHelpText(
      "after",
      `
Choosing the tunnel:
  ENDPOINT / --endpoint E  reuse this machine's tunnel for E (same label), or create one
  --id ID                  resume tunnel ID: its backend is pointed at this machine, its
                           hostname stays; with --endpoint, E must equal its endpoint
                           (change it with 'tunnel update')
  neither                  on a terminal, pick among this machine's tunnels

What the agent may reach is decided on this machine, never by the server: the endpoint given
here, or this machine's record of the tunnel (state.yml). When the server's backend differs
from that record (anyone in the project can edit it), or there is no record, a terminal asks
first; without one, listen stops (exit 64) until the target is given with --endpoint. A
target that is not loopback (a LAN address, 0.0.0.0, a host name) is served only when given
with --endpoint, and a warning says so.

Who may connect: by default any iroh peer that knows this machine's endpoint id (Datum
publishes no list of its edge's identities). --allow-peer ID (repeatable, or
DATUMCTL_TUNNEL_ALLOWED_PEERS=ID,ID) serves only those peers and refuses every other one
when it connects; each request event names the peer that sent it.

Named tunnels:
  --name N                 use the folder $XDG_DATA_HOME/datumctl/connect/N (its own listen_key,
                           state.yml, PID file, status and JSON log), so several named tunnels
                           run at once, each with its own Connector. N: lowercase letters,
                           digits, dashes (max 63). One process per name (a second is refused,
                           exit 64); unnamed listeners of one project wait for each other.
  --detach                 with --name: start in the background (own session, no terminal),
                           wait up to 10 s (--wait) for ready, print the URL and return:
                           'tunnel ps', 'tunnel status|logs|stop --name N'.

Then it shows each setup step, verifies that the local service answers and that a request to
the public URL reaches it through the tunnel, prints "Tunnel ready after N sec: https://…",
and keeps serving. Ctrl-C (or SIGTERM) disables the tunnel (the hostname is kept for --id).

With -o json every event is one JSON line on stdout (schema datumctl.tunnel.events/v1, see
docs/tunnel-events.md): identity, phase, tunnel, step, verify, ready, stats, path, warning,
error, stopped.

Examples:
  datumctl tunnel listen 8080
  datumctl tunnel listen --endpoint localhost:11434 --label ollama
  datumctl tunnel listen --id tunnel-gchhg
  datumctl tunnel listen 11434 --name ollama --detach
  datumctl tunnel listen 3000 --name web --detach -o json
  datumctl tunnel listen 3000 --project web-app -o json | jq -c 'select(.type=="ready")'
${ENVIRONMENT}
${EXIT_CODES}`,
    )
    .action(async (argument: string | undefined, flags: ListenFlags, cmd: Command) => {
      const json = flags.output !== undefined &&
        parseOutputFormat(flags.output, ["json"] as const, "json") === "json";
      if (argument !== undefined && flags.endpoint !== undefined) {
        throw new UsageError(
          "give the endpoint once: as the argument or with --endpoint",
          "e.g. 'datumctl tunnel listen localhost:8080'.",
        );
      }
      const { endpointFromArgument } = await import("../lib/tunnel/endpoint.ts");
      const endpoint = argument !== undefined ? endpointFromArgument(argument) : flags.endpoint;
      if (flags.detach) {
        const { detachListen } = await import("./tunnel-daemon.ts");
        await detachListen(ctx, cmd, { ...flags, endpoint, json });
        return;
      }
      const { serveTunnel } = await import("./tunnel-serve.ts");
      await serveTunnel(ctx, cmd, {
        endpoint,
        allowPeer: flags.allowPeer,
        id: flags.id,
        label: flags.label,
        name: flags.name,
        timeout: flags.timeout,
        yes: flags.yes,
        json,
        session: flags.session,
        mode: flags.daemonChild ? "detached" : "foreground",
      });
    });
}

interface ListenFlags {
  endpoint?: string;
  id?: string;
  label?: string;
  name?: string;
  session?: string;
  timeout: string;
  yes?: boolean;
  output?: string;
  detach?: boolean;
  wait: string;
  daemonChild?: boolean;
  allowPeer?: string[];
}

function registerUpdate(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("update")
    .description("Change a tunnel's label or endpoint (no change is sent when nothing differs)")
    .requiredOption("--id <id>", "the tunnel to update")
    .option("--label <label>", "new label")
    .option("--endpoint <endpoint>", "new local service: a port, host:port or http://host:port")
    .addOption(nameOption())
    .addOption(outputOption())
    .addHelpText(
      "after",
      `
The tunnel's backend is pointed at this machine's Connector (with --name N, named tunnel N's). Running it twice changes nothing
the second time (no PATCH is sent when the label and rules already match).

Examples:
  datumctl tunnel update --id tunnel-gchhg --label api
  datumctl tunnel update --id tunnel-gchhg --endpoint localhost:9090 -o json
  datumctl tunnel update --name ollama --id tunnel-gchhg --label ollama
${EXIT_CODES}`,
    )
    .action(
      async (
        flags: { id: string; label?: string; endpoint?: string; name?: string; output?: string },
        cmd,
      ) => {
        const io = ctx.io;
        const format = parseStructuredOutput(flags.output);
        const { endpointFromArgument, parseTarget } = await import("../lib/tunnel/endpoint.ts");
        const endpoint = flags.endpoint !== undefined
          ? endpointFromArgument(flags.endpoint)
          : undefined;
        if (endpoint !== undefined) parseTarget(endpoint);
        const project = await openProject(cmd, io, flags.name);
        const { machineService } = await import("../lib/tunnel/open.ts");
        const service = await machineService(project, {
          onNotice: (text) => io.err(`${text}\n`),
          connectorClass: connectorClassFrom(io),
        });
        const result = await service.update(flags.id, { label: flags.label, endpoint });
        if (format) {
          io.out(
            renderStructured({
              ...result.summary,
              changed: result.proxyPatched || result.advertisementPatched,
            }, format),
          );
          return;
        }
        const changed = result.proxyPatched || result.advertisementPatched;
        io.out(
          `${
            changed ? "Updated" : "Unchanged"
          } tunnel ${result.summary.id}: ${result.summary.label} -> ${result.summary.endpoint}\n`,
        );
      },
    );
}

function registerDelete(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("delete")
    .description("Delete a tunnel and its hostname")
    .requiredOption("--id <id>", "the tunnel to delete")
    .addOption(nameOption())
    .addOption(outputOption())
    .addHelpText(
      "after",
      `
Deletes the HTTPProxy, its ConnectorAdvertisement and TrafficProtectionPolicy; when no other
tunnel uses this machine's Connector (with --name N, named tunnel N's) any more, the Connector
goes too.

Examples:
  datumctl tunnel delete --id tunnel-gchhg
  datumctl tunnel delete --name ollama --id tunnel-gchhg
${EXIT_CODES}`,
    )
    .action(async (flags: { id: string; name?: string; output?: string }, cmd) => {
      const io = ctx.io;
      const format = parseStructuredOutput(flags.output);
      const project = await openProject(cmd, io, flags.name);
      const [{ deletingService }, { tunnelNotFound }] = await Promise.all([
        import("../lib/tunnel/open.ts"),
        import("../lib/tunnel/service.ts"),
      ]);
      const service = await deletingService(project);
      const existed = await service.delete(flags.id, (m) => io.err(`warning: ${m}\n`));
      if (!existed) throw tunnelNotFound(flags.id, project.projectId);
      if (format) {
        io.out(renderStructured({ id: flags.id, deleted: true }, format));
        return;
      }
      io.out(`Deleted tunnel ${flags.id}\n`);
    });
}

/** Registers `tunnel` and its subcommands. */
export const register: RegisterCommands = (program, ctx) => {
  const tunnel = program
    .command("tunnel")
    .description("Expose a local service at a public HTTPS URL (iroh tunnels)")
    .option("-r, --repo <dir>", "data folder shared with datum-connect (env DATUM_CONNECT_REPO)")
    .addHelpText(
      "after",
      `
Tunnels belong to a project: --project ID, DATUM_PROJECT, or the current context.
Each machine has one iroh identity per project, in <repo>/projects/<project>/listen_key;
a named tunnel (--name N) has its own, under $XDG_DATA_HOME/datumctl/connect/N/, and can run
in the foreground, in the background (listen --detach) or as a system service (install).

Examples:
  datumctl tunnel listen 8080
  datumctl tunnel list
  datumctl tunnel listen 3000 --name web --detach
  datumctl tunnel ps
  datumctl tunnel logs --name web -f
  datumctl tunnel stop --name web
  datumctl tunnel install --name web --endpoint localhost:3000
${EXIT_CODES}`,
    );
  registerList(tunnel, ctx);
  registerListen(tunnel, ctx);
  registerUpdate(tunnel, ctx);
  registerDelete(tunnel, ctx);
};
