/**
 * `datumctl mcp [--read-only]`: serve the current login and scope to AI agents over the Model
 * Context Protocol on stdin/stdout.
 *
 * The scope follows the normal rule (`--project`/`--organization`/`--context`, `DATUM_*`, the
 * current context) and is fixed when the server starts. stdout carries protocol only; the
 * start-up line and diagnostics go to stderr. The MCP SDK is imported inside the action.
 */
import type { Command } from "commander";
import { type RegisterCommands, scopeInputs } from "../command-context.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";

const HELP_AFTER = `
Tools: whoami, list_contexts, list_resource_types, get, describe, apply, delete, list_tunnels
Resources: datum://context/current, datum://contexts, datum://resource-types

Tools run as your datumctl login (tokens refresh by themselves) in the scope chosen when the
server starts: --project / --organization / --context, else DATUM_PROJECT /
DATUM_ORGANIZATION / DATUM_CONTEXT, else the current context ('datumctl ctx use'). Scoped
tools also accept a project or organization for one call. Errors come back as tool errors
with the same message and hint datumctl prints. With --read-only, apply and delete are refused.

Register it with an MCP client: Claude Desktop, Cursor and most others read this "mcpServers"
JSON (VS Code takes the same entry under "servers" in .vscode/mcp.json). Give the full path
to datumctl if it is not on the client's PATH:
  {
    "mcpServers": {
      "datum": {
        "command": "datumctl",
        "args": ["mcp", "--read-only"],
        "env": { "DATUM_PROJECT": "infra" }
      }
    }
  }
Leave out "--read-only" to let the agent apply and delete, and "env" to follow the current
context at start-up.

Examples:
  datumctl mcp                                     # serve the current context
  datumctl mcp --read-only --project web-app       # read-only, pinned to project web-app
  claude mcp add datum -- datumctl mcp --read-only # register with Claude Code
  npx @modelcontextprotocol/inspector datumctl mcp # try it by hand in the MCP Inspector`;

/** Registers `mcp`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("mcp")
    .description("Serve your login and context to AI agents over MCP (stdio)")
    .option("--read-only", "refuse the apply and delete tools")
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: { readOnly?: boolean }, cmd: Command) => {
      const io = ctx.io;
      if (io.stdinIsTTY) {
        // Started by hand: it will sit waiting for protocol messages, so say what it is for.
        io.err(
          "datumctl mcp talks to an MCP client over stdin/stdout; register it with one (see " +
            "'datumctl mcp --help'). Ctrl-C stops it.\n",
        );
      }
      const [{ serveStdio }, { formatError }, { describeObject }] = await Promise.all([
        import("../../lib/mcp/server.ts"),
        import("../../lib/ui/error-output.ts"),
        import("../../lib/ui/printers.ts"),
      ]);
      await serveStdio({
        inputs: scopeInputs(cmd, io),
        readOnly: flags.readOnly === true,
        version: ctx.version,
        log: (line) => io.err(terminalLine(line)),
        render: { error: (err) => formatError(err, "human"), describe: describeObject },
      });
    });
};
