/**
 * datumctl's entry point: runs the command line — through the fast path for the hot commands
 * (commands/fast-path.ts), else through commander with the command groups it needs
 * (commands/program.ts) — and turns any error into one rendered message and an exit code.
 * Nothing else lives here; the static imports stay few and small, as every command pays them
 * (docs/performance.md).
 */
import type { Command } from "commander";
import denoJson from "./deno.json" with { type: "json" };
import { type IO, processIO } from "./lib/core/io.ts";
import { takeNotes } from "./lib/core/notes.ts";
import { terminalLine } from "./lib/ui/terminal-text.ts";
import { ExitCode, ExitStatus, InterruptedError, toCliError } from "./lib/core/errors.ts";
import { type ErrorFormat, formatError } from "./lib/ui/error-output.ts";
import type { CommandContext } from "./commands/command-context.ts";
import { runFastPath } from "./commands/fast-path.ts";

/** commands/program.ts (commander and the command groups), for the command lines that need it. */
function programModule(): Promise<typeof import("./commands/program.ts")> {
  // A computed specifier: `deno run` loads every module a literal `import("…")` names before
  // the program starts, which would load commander and every command for `--version` too.
  const specifier = "./commands/program.ts";
  return import(specifier);
}

/**
 * A computed-specifier `import()` (see {@link programModule}) of a module the context loads only
 * when a command asks for it.
 */
function importModule<T>(specifier: string): Promise<T> {
  return import(specifier);
}

/**
 * The context of a process run: its stdin/stdout/stderr and environment (or `io`'s), the
 * network, the clock; config and credentials under the IO's HOME.
 */
export function processContext(
  io: IO = processIO(),
  version: string = denoJson.version,
): CommandContext {
  const env = (name: string) => io.env(name);
  return {
    io,
    version,
    fetch: globalThis.fetch,
    now: () => new Date(),
    config: async () => {
      const [{ loadConfig }, { configPath }] = await Promise.all([
        importModule<typeof import("./lib/store/config.ts")>("./lib/store/config.ts"),
        importModule<typeof import("./lib/store/paths.ts")>("./lib/store/paths.ts"),
      ]);
      return await loadConfig(configPath(env));
    },
    credentials: async () => {
      const { CredentialStore } = await importModule<typeof import("./lib/store/credentials.ts")>(
        "./lib/store/credentials.ts",
      );
      return new CredentialStore({ env, warn: (line) => io.err(`${line}\n`) });
    },
  };
}

function errorFormatFromArgv(args: string[]): ErrorFormat {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--error-format" && args[i + 1] === "json") return "json";
    if (args[i] === "--error-format=json") return "json";
  }
  return "human";
}

/**
 * Builds the root program with every command group registered, or with only the groups the
 * command line `args` needs.
 */
export async function buildProgram(ctx: CommandContext, args?: string[]): Promise<Command> {
  return await (await programModule()).buildProgram(ctx, args);
}

/**
 * Runs datumctl with `args` and returns the exit code; `context` is the process's unless a test
 * passes its own (tests/support/in-process.ts).
 */
export async function run(
  args: string[],
  context: CommandContext = processContext(),
): Promise<number> {
  let ctx = context;
  const io = ctx.io;
  const format = errorFormatFromArgv(args);
  if (args.includes("--debug") || io.env("DATUMCTL_DEBUG")) {
    // A computed specifier, so that `deno run` does not load it for every command line.
    const trace = "./lib/api/trace.ts";
    const { debugEnabled, tracingFetch } = await import(
      trace
    ) as typeof import("./lib/api/trace.ts");
    if (args.includes("--debug") || debugEnabled(io.env("DATUMCTL_DEBUG"))) {
      ctx = { ...ctx, fetch: tracingFetch(ctx.fetch, (line) => io.err(`${line}\n`)) };
    }
  }
  // lib/ calls the global fetch: for this run, that is the context's HTTP client.
  const globalFetch = globalThis.fetch;
  globalThis.fetch = ctx.fetch;
  try {
    if (!(await runFastPath(args, ctx))) await (await programModule()).runCommander(args, ctx);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof ExitStatus) return err.exitCode;
    // The reader went away (`datumctl … | head`): it has all it wanted, which is not an error.
    if (err instanceof Deno.errors.BrokenPipe) return ExitCode.ok;
    const cliError = toCliError(err);
    // Ctrl-C at a prompt: the person chose to stop, so no error line, just exit 130.
    if (cliError instanceof InterruptedError && cliError.silent) {
      io.err("\n");
      return cliError.exitCode;
    }
    io.err(formatError(cliError, format));
    return cliError.exitCode;
  } finally {
    globalThis.fetch = globalFetch;
    // What lib/store changed on its own (e.g. a folder it closed to other users).
    for (const note of takeNotes()) io.err(terminalLine(`note: ${note}`));
  }
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
