/**
 * datumctl's entry point: builds the command tree, runs it, and turns any error into one
 * rendered message and an exit code. Nothing else lives here.
 */
import { Command, CommanderError, Option } from "commander";
import denoJson from "./deno.json" with { type: "json" };
import { processIO } from "./lib/ui/io.ts";
import {
  CliError,
  type ErrorFormat,
  ExitCode,
  ExitStatus,
  formatError,
  toCliError,
  UsageError,
} from "./lib/ui/errors.ts";
import type { CommandContext, RegisterCommands } from "./commands/context.ts";
import { register as loginCommands } from "./commands/login.ts";
import { register as logoutCommands } from "./commands/logout.ts";
import { register as authCommands } from "./commands/auth.ts";
import { register as whoamiCommands } from "./commands/whoami.ts";
import { register as completion } from "./commands/completion.ts";
import { register as update } from "./commands/update.ts";
import { showLanding } from "./commands/landing.ts";
import { register as ctxCommands } from "./commands/ctx.ts";
import { register as resourceCommands } from "./commands/resources.ts";
import { register as kubeconfigCommands } from "./commands/kubeconfig.ts";
import { register as apiCommands } from "./commands/api.ts";
import { register as tunnelCommands } from "./commands/tunnel.ts";
import { register as mcpCommands } from "./commands/mcp.ts";
import { register as tunnelSelfTest } from "./commands/tunnel-selftest.ts";
import { register as tunnelDaemon } from "./commands/tunnel-daemon.ts";
import { register as tunnelService } from "./commands/tunnel-service.ts";
import { register as versionCommand } from "./commands/version.ts";
import { register as configCommand } from "./commands/config.ts";
import { register as tunnelInspect } from "./commands/tunnel-inspect.ts";

// The order here is the order of `datumctl --help`.
const commandGroups: RegisterCommands[] = [
  loginCommands,
  logoutCommands,
  whoamiCommands,
  authCommands,
  ctxCommands,
  resourceCommands,
  kubeconfigCommands,
  apiCommands,
  tunnelCommands,
  tunnelSelfTest, // adds itself to the tunnel group: keep it after tunnelCommands
  tunnelDaemon, // likewise
  tunnelService, // likewise
  tunnelInspect, // likewise
  mcpCommands,
  completion,
  update,
  versionCommand,
  configCommand,
];

/** Root help sections, as gh groups its commands; a command not listed lands in "Other". */
const HELP_SECTIONS: Record<string, string[]> = {
  "Log in and choose where to work:": ["login", "logout", "whoami", "auth", "ctx"],
  "Resources (kubectl verbs):": [
    "get",
    "describe",
    "create",
    "apply",
    "diff",
    "delete",
    "edit",
    "patch",
    "label",
    "annotate",
    "wait",
    "api-resources",
    "api-versions",
    "explain",
    "api",
  ],
  "Tunnels:": ["tunnel"],
  "Agents:": ["mcp"],
};

function sectionOf(name: string): string {
  for (const [heading, names] of Object.entries(HELP_SECTIONS)) {
    if (names.includes(name)) return heading;
  }
  return "Other commands:";
}

const EXIT_CODES_HELP = `
Exit codes:
  0    success (a clean Ctrl-C shutdown of a tunnel included)
  1    error
  2    usage error
  64   usage rejected on meaning (e.g. a conflict)
  65   malformed config file or server response
  69   service unavailable (retryable)
  75   temporary failure, still provisioning (retryable)
  77   not authenticated or not allowed
  78   configuration error
  130  interrupted`;

function errorFormatFromArgv(args: string[]): ErrorFormat {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--error-format" && args[i + 1] === "json") return "json";
    if (args[i] === "--error-format=json") return "json";
  }
  return "human";
}

/** Builds the root program with every command group registered. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command("datumctl")
    .description("Datum Cloud from your terminal: log in, pick a context, manage resources.")
    .version(`datumctl ${ctx.version}`, "--version", "print the version")
    .addOption(
      new Option("--error-format <format>", "how errors are printed")
        .choices(["human", "json"])
        .default("human"),
    )
    .option("--context <name>", "use this context for one command (env DATUM_CONTEXT)")
    .option("--project <id>", "use this project for one command (env DATUM_PROJECT)")
    .option("--organization <id>", "use this organization for one command (env DATUM_ORGANIZATION)")
    .option("--debug", "trace each HTTP request and its timing on stderr (env DATUMCTL_DEBUG=1)")
    .showSuggestionAfterError(true)
    .addHelpText("after", EXIT_CODES_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.out(s),
      writeErr: (s) => ctx.io.err(s),
      // Commander's own error lines are replaced by ours (one line and a hint, exit 2).
      outputError: () => {},
    });
  for (const register of commandGroups) register(program, ctx);
  for (const cmd of program.commands) cmd.helpGroup(sectionOf(cmd.name()));
  program.addHelpCommand(
    new Command("help")
      .argument("[command]")
      .description("Show help for a command")
      .helpGroup(sectionOf("help")),
  );
  // Subcommands inherit the same behaviour as the root.
  const apply = (cmd: Command) => {
    cmd.exitOverride().showSuggestionAfterError(true).configureOutput({
      writeOut: (s) => ctx.io.out(s),
      writeErr: (s) => ctx.io.err(s),
      outputError: () => {},
    });
    cmd.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  return program;
}

/** The command path argv names (`datumctl tunnel listen`), for the help hint of a usage error. */
function commandPath(program: Command, args: string[]): string {
  const names = [program.name()];
  let current = program;
  for (const arg of args) {
    if (arg.startsWith("-")) continue;
    const next = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next) break;
    names.push(next.name());
    current = next;
  }
  return names.join(" ");
}

function commanderToCliError(err: CommanderError, path: string): CliError | undefined {
  switch (err.code) {
    case "commander.helpDisplayed":
    case "commander.version":
    case "commander.help":
      return undefined;
    default: {
      // Commander appends "(Did you mean x?)" on its own line; keep the error to one line and
      // move the suggestion into the hint.
      const [first, ...rest] = err.message.replace(/^error: /, "").split("\n");
      const suggestion = rest.join(" ").match(/\(Did you mean (.+)\?\)/)?.[1];
      const usage = `Run '${path} --help' for usage.`;
      return new UsageError(
        first.trim(),
        suggestion ? `Did you mean ${suggestion}? ${usage}` : usage,
      );
    }
  }
}

/**
 * `help TOPIC…` for a command that does not exist is a usage error (exit 2) with the nearest
 * command name, not the root help.
 */
async function checkHelpTopic(program: Command, topic: string[]): Promise<void> {
  let current = program;
  for (const word of topic) {
    if (word.startsWith("-")) return;
    const next = current.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      const { editDistance } = await import("./lib/resources/edit-distance.ts");
      const names = current.commands.map((c) => c.name()).filter((n) => n !== "complete");
      const near = names
        .map((name) => ({ name, d: editDistance(word, name) }))
        .filter((x) => x.d <= Math.max(2, Math.floor(word.length / 3)))
        .sort((a, b) => a.d - b.d)[0]?.name;
      const parent = commandPath(program, topic);
      throw new UsageError(
        `unknown command "${word}" for "${parent}"`,
        `${near ? `Did you mean "${near}"? ` : ""}Run '${parent} --help' for the commands.`,
      );
    }
    current = next;
  }
}

/** Runs datumctl with `args` and returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const io = processIO();
  const format = errorFormatFromArgv(args);
  const program = buildProgram({ io, version: denoJson.version });
  if (args.includes("--debug") || io.env("DATUMCTL_DEBUG")) {
    const { debugEnabled, tracingFetch } = await import("./lib/api/trace.ts");
    if (args.includes("--debug") || debugEnabled(io.env("DATUMCTL_DEBUG"))) {
      globalThis.fetch = tracingFetch(globalThis.fetch, (line) => io.err(`${line}\n`));
    }
  }
  try {
    if (args.length === 0) {
      await showLanding({ io, version: denoJson.version });
      return ExitCode.ok;
    }
    if (args[0] === "help" && args.length > 1) await checkHelpTopic(program, args.slice(1));
    await program.parseAsync(args, { from: "user" });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof ExitStatus) return err.exitCode;
    // The reader went away (`datumctl … | head`): it has all it wanted, which is not an error.
    if (err instanceof Deno.errors.BrokenPipe) return ExitCode.ok;
    if (err instanceof CommanderError) {
      const cliError = commanderToCliError(err, commandPath(program, args));
      if (!cliError) return ExitCode.ok;
      io.err(formatError(cliError, format));
      return cliError.exitCode;
    }
    // Ctrl-C in a picker: the person chose to stop, so no error line, just exit 130.
    if (err instanceof Error && err.name === "ExitPromptError") {
      io.err("\n");
      return ExitCode.interrupted;
    }
    const cliError = toCliError(err);
    io.err(formatError(cliError, format));
    return cliError.exitCode;
  } finally {
    // What lib/store changed on its own (e.g. a folder it closed to other users).
    const { takeFileNotes } = await import("./lib/store/files.ts");
    for (const note of takeFileNotes()) io.err(`note: ${note}\n`);
  }
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
