/**
 * The command tree on commander: builds the root program with the command groups a command
 * line needs (commands/groups.ts), parses argv with it and turns commander's own errors into
 * UsageErrors. main.ts loads this only for command lines its fast path does not take.
 */
import { Command, CommanderError, Option } from "commander";
import { UsageError } from "../lib/core/errors.ts";
import type { CommandContext, RegisterCommands } from "./command-context.ts";
import { groupsFor } from "./groups.ts";

/**
 * `import()` by a computed specifier: `deno run` loads every module a literal `import("…")`
 * names before the program starts, which would load every command for every command line.
 * scripts/compile.ts embeds these (`COMPUTED_IMPORTS` in ./groups.ts).
 */
function importModule<T>(specifier: string): Promise<T> {
  return import(specifier);
}

/** What each module of a command group exports. */
interface GroupModule {
  register: RegisterCommands;
}

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
  64   usage rejected on meaning (e.g. a conflict, a project that does not exist)
  65   malformed config file or server response
  69   service unavailable (retryable)
  75   temporary failure, still provisioning (retryable)
  77   not authenticated or not allowed
  78   configuration error
  130  interrupted`;

/**
 * Builds the root program with every command group registered, or with only the groups the
 * command line `args` needs.
 */
export async function buildProgram(ctx: CommandContext, args?: string[]): Promise<Command> {
  const modules = groupsFor(args).flatMap((g) => g.modules);
  const [registered] = await Promise.all([
    Promise.all(modules.map(async (m) => (await importModule<GroupModule>(m)).register)),
    // The printers of `-o yaml` are synchronous and any command may print YAML.
    importModule<typeof import("../lib/yaml.ts")>("../lib/yaml.ts").then((m) => m.loadYaml()),
  ]);
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
  for (const register of registered) register(program, ctx);
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

function commanderToCliError(err: CommanderError, path: string): UsageError | undefined {
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
      const { editDistance } = await import("../lib/edit-distance.ts");
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

/** Whether `args` ask for the root help, which the tree cache keeps. */
function isRootHelp(args: string[]): boolean {
  return args.length === 1 && ["--help", "-h", "help"].includes(args[0]);
}

/**
 * Parses `args` with commander and runs the command; commander's own errors come back as a
 * UsageError. A root help or TAB that had to load the whole tree stores it for the next one
 * (commands/tree-cache.ts).
 */
export async function runCommander(args: string[], ctx: CommandContext): Promise<void> {
  const printed: string[] = [];
  const rootHelp = isRootHelp(args);
  const teeCtx: CommandContext = rootHelp
    ? { ...ctx, io: { ...ctx.io, out: (text) => (printed.push(text), ctx.io.out(text)) } }
    : ctx;
  const program = await buildProgram(teeCtx, args);
  const store = async () => {
    const [{ helpWidthKey, updateTreeCache }, { commandTree }] = await Promise.all([
      importModule<typeof import("./tree-cache.ts")>("./tree-cache.ts"),
      importModule<typeof import("../lib/ui/completion.ts")>("../lib/ui/completion.ts"),
    ]);
    await updateTreeCache(ctx.io, ctx.version, (cache) => {
      cache.tree = commandTree(program);
      if (printed.length > 0) cache.help[helpWidthKey()] = printed.join("");
    });
  };
  try {
    if (args[0] === "help" && args.length > 1) await checkHelpTopic(program, args.slice(1));
    await program.parseAsync(args, { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (rootHelp && ["commander.helpDisplayed", "commander.help"].includes(err.code)) {
      await store();
    }
    const cliError = commanderToCliError(err, commandPath(program, args));
    if (cliError) throw cliError;
    return;
  }
  if (rootHelp || (args[0] === "complete" && args[1] === "--")) await store();
}
