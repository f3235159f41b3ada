/**
 * `datumctl tunnel`: expose a local service at a public HTTPS URL through a peer-to-peer iroh
 * tunnel — `list`, `listen` (its own file: ./listen.ts), `update`, `delete`. The project comes
 * from the normal scope rule (`--project` → `DATUM_PROJECT` → `--context` → the current context).
 *
 * Everything heavy (credentials, the tunnel engine, prompts) is imported inside the actions.
 */
import { Command, Option } from "commander";
import { type CommandContext, type RegisterInGroup, scopeInputs } from "../command-context.ts";
import { EXIT_CODES } from "./help.ts";
import { registerListen } from "./listen.ts";
import { parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";
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
