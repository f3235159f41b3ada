/**
 * `datumctl tunnel`: expose a local service at a public HTTPS URL through a peer-to-peer iroh
 * tunnel — `listen` (foreground), `list`, `update`, `delete`. The project comes from the normal
 * scope rule (`--project` → `DATUM_PROJECT` → `--context` → the current context).
 *
 * Everything heavy (credentials, the tunnel engine, prompts) is imported inside the actions.
 */
import { Command, Option } from "commander";
import { type CommandContext, type RegisterInGroup, scopeInputs } from "../command-context.ts";
import { ENVIRONMENT, EXIT_CODES } from "./help.ts";
import { parseOutputFormat, parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import type { IO } from "../../lib/core/io.ts";

function repoFlag(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { repo?: string }).repo;
}

async function openProject(cmd: Command, io: IO, name?: string) {
  const { openTunnelProject } = await import("../../lib/tunnel/open.ts");
  return await openTunnelProject(scopeInputs(cmd, io), {
    repo: repoFlag(cmd),
    name,
    warn: (m) => io.err(terminalLine(m)),
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
  <id> [ready|accepted|pending|disabled] <label> -> <endpoint>
    hostname: <hostname>
    status: enabled, <state>   or   status: disabled, not serving (...)
A disabled tunnel's URL does not serve (the edge answers 503) until a listener resumes it;
-o json has both "enabled" and the provisioning "state".

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
      const { listingService } = await import("../../lib/tunnel/open.ts");
      const tunnels = await (await listingService(project)).list();
      if (format) {
        io.out(renderStructured(tunnels, format));
        return;
      }
      const { renderTunnelList } = await import("../../lib/ui/tunnel.ts");
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
    .option(
      "--label <label>",
      "label for a new tunnel (default: the --name, else 12 random hex characters)",
    )
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
    .option("--inspect [addr]", "serve the request inspector (default 127.0.0.1:4040)")
    .option("--inspect-body-limit <size>", "bytes kept of each body: KiB, or 512B/1MiB (0: none)")
    .option("--inspect-show-secrets", "show Authorization/Cookie headers unmasked in the inspector")
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

Request inspector:
  --inspect [ADDR]         serve a page listing every request live (headers, the first 64 KiB
                           of each body, replay, copy as curl) and a JSON API under
                           /api/requests, on 127.0.0.1:4040 (the next free port if taken) or
                           ADDR (a port or loopback host:port; put the endpoint first or write
                           --inspect=ADDR). It prints the URL with this run's token; the token
                           is required, and Authorization, Cookie, Set-Cookie and
                           Proxy-Authorization values are masked unless --inspect-show-secrets.
                           A named tunnel's URL: 'datumctl tunnel inspect --name N'.

With -o json every event is one JSON line on stdout (schema datumctl.tunnel.events/v1, see
docs/tunnel-events.md): identity, phase, tunnel, step, verify, ready, stats, path, warning,
error, stopped.

Examples:
  datumctl tunnel listen 8080
  datumctl tunnel listen --endpoint localhost:11434 --label ollama
  datumctl tunnel listen --id tunnel-gchhg
  datumctl tunnel listen 11434 --name ollama --detach
  datumctl tunnel listen 8080 --inspect
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
      const { endpointFromArgument } = await import("../../lib/tunnel/endpoint.ts");
      // A bare port means localhost:PORT however it is given (argument or --endpoint).
      const given = argument ?? flags.endpoint;
      const endpoint = given !== undefined ? endpointFromArgument(given) : undefined;
      const inspect = flags.inspect !== undefined ||
          flags.inspectBodyLimit !== undefined || flags.inspectShowSecrets
        ? (await import("../../lib/tunnel/inspector/address.ts")).inspectSettings(flags)
        : undefined;
      if (flags.detach) {
        const { detachListen } = await import("./daemon.ts");
        await detachListen(ctx, cmd, { ...flags, endpoint, json, inspect });
        return;
      }
      const { serveTunnel } = await import("./serve.ts");
      if (flags.daemonChild) {
        // The background process of --detach: everything comes from what the parent resolved.
        const { DETACHED_TUNNEL_ENV, readDetachedTunnel } = await import(
          "../../lib/tunnel/daemon/detach.ts"
        );
        const detached = readDetachedTunnel(ctx.io.env(DETACHED_TUNNEL_ENV));
        await serveTunnel(ctx, cmd, {
          endpoint: detached.endpoint,
          allowPeer: detached.allowPeer,
          id: detached.id,
          label: detached.label,
          name: detached.name,
          timeout: detached.timeout,
          yes: detached.yes,
          json: false,
          project: detached.projectId,
          session: detached.session,
          mode: "detached",
          inspect: detached.inspect,
          resolved: detached,
        });
        return;
      }
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
        mode: "foreground",
        inspect,
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
  inspect?: string | boolean;
  inspectBodyLimit?: string;
  inspectShowSecrets?: boolean;
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
        const { endpointFromArgument, parseTarget } = await import("../../lib/tunnel/endpoint.ts");
        const endpoint = flags.endpoint !== undefined
          ? endpointFromArgument(flags.endpoint)
          : undefined;
        if (endpoint !== undefined) parseTarget(endpoint);
        const project = await openProject(cmd, io, flags.name);
        const { machineService } = await import("../../lib/tunnel/open.ts");
        const service = await machineService(project, {
          onNotice: (text) => io.err(terminalLine(text)),
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
          terminalLine(
            `${
              changed ? "Updated" : "Unchanged"
            } tunnel ${result.summary.id}: ${result.summary.label} -> ${result.summary.endpoint}`,
          ),
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
        import("../../lib/tunnel/open.ts"),
        import("../../lib/tunnel/tunnel-api.ts"),
      ]);
      const service = await deletingService(project);
      const existed = await service.delete(flags.id, (m) => io.err(terminalLine(`warning: ${m}`)));
      if (!existed) throw tunnelNotFound(flags.id, project.projectId);
      if (format) {
        io.out(renderStructured({ id: flags.id, deleted: true }, format));
        return;
      }
      io.out(`Deleted tunnel ${flags.id}\n`);
    });
}

/** Adds `list`, `listen`, `update` and `delete` to the `tunnel` group. */
export const register: RegisterInGroup = (tunnel, ctx) => {
  registerList(tunnel, ctx);
  registerListen(tunnel, ctx);
  registerUpdate(tunnel, ctx);
  registerDelete(tunnel, ctx);
};
