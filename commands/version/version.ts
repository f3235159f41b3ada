/**
 * `datumctl version`: this binary's version and runtime, and with `--server` the build the API
 * server reports (its `/version`), as `kubectl version` shows both.
 *
 *   version [--server] [--client] [-o json|yaml]
 */
import type { Command } from "commander";
import { type CommandContext, type RegisterCommands, scopeInputs } from "../command-context.ts";
import { parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";

interface VersionOptions {
  server?: boolean;
  client?: boolean;
  output?: string;
}

async function version(cmd: Command, ctx: CommandContext, opts: VersionOptions) {
  const format = parseStructuredOutput(opts.output);
  const { clientVersion, fetchServerVersion } = await import("../../lib/api/server-version.ts");
  const client = clientVersion(ctx.version);
  let server: Record<string, unknown> | undefined;
  let serverUrl: string | undefined;
  if (opts.server && !opts.client) {
    const [{ openUserPlane }, { apiBaseUrl }] = await Promise.all([
      import("../../lib/resources/open.ts"),
      import("../../lib/api/urls.ts"),
    ]);
    const { auth, client: api } = await openUserPlane(
      scopeInputs(cmd, ctx.io),
      (m) => ctx.io.err(`warning: ${m}\n`),
    );
    const root = api.withBase(apiBaseUrl(auth.apiBase));
    serverUrl = root.baseUrl;
    server = await fetchServerVersion(root);
  }
  if (format) {
    ctx.io.out(renderStructured(
      server ? { clientVersion: client, serverVersion: server, server: serverUrl } : {
        clientVersion: client,
      },
      format,
    ));
    return;
  }
  let text = `Client Version: ${client.datumctl}\n` +
    `Runtime:        Deno ${client.deno} (${client.platform})\n`;
  if (server) {
    text += `Server Version: ${server.gitVersion ?? "(unknown)"}\n` +
      `Server:         ${serverUrl}\n`;
  }
  ctx.io.out(text);
}

/** Registers `version`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("version")
    .description("Print the client version (and the server's with --server)")
    .option("--server", "also ask the API server for its version (needs a login)")
    .option("--client", "only the client version (the default; for kubectl habits)")
    .option("-o, --output <format>", "json or yaml")
    .addHelpText(
      "after",
      `
Examples:
  datumctl version
  datumctl version --server
  datumctl version -o json | jq -r .clientVersion.datumctl`,
    )
    .action(async (opts: VersionOptions, cmd: Command) => {
      await version(cmd, ctx, opts);
    });
};
