/**
 * What every command module receives — the IO to write through, the HTTP client, the clock,
 * config and credential access ({@link CommandContext}, built by main.ts for a process and by
 * tests/support/in-process.ts for a test) — and the global flags, read with
 * {@link globalOptions} (and as the scope rule takes them with {@link scopeInputs}).
 */
import type { Command } from "commander";
import type { IO } from "../lib/core/io.ts";
import type { DatumctlConfig } from "../lib/store/config.ts";
import type { CredentialStore } from "../lib/store/credentials.ts";
import type { ErrorFormat } from "../lib/ui/error-output.ts";
import type { ScopeInputs } from "../lib/scope/resolve.ts";

/** Flags accepted by every command (defined once on the root program). */
export interface GlobalOptions {
  errorFormat: ErrorFormat;
  /** `--project ID`: one-invocation project scope. */
  project?: string;
  /** `--organization ID`: one-invocation organization scope. */
  organization?: string;
  /** `--context NAME`: one-invocation context. */
  context?: string;
}

/**
 * What a command runs with, handed to each command group's `register`: everything that differs
 * between a process and an in-process test run.
 */
export interface CommandContext {
  io: IO;
  /** The datumctl version from deno.json. */
  version: string;
  /**
   * The HTTP client. lib/ calls the global `fetch`; main.ts's `run` points it at this one for
   * the run, so a test can answer every request.
   */
  fetch: typeof fetch;
  /** The clock. */
  now: () => Date;
  /** Reads ~/.datumctl/config of the IO's HOME (an empty config when there is none). */
  config: () => Promise<DatumctlConfig>;
  /** The credential store of the IO's environment (keychain, or the file under HOME). */
  credentials: () => Promise<CredentialStore>;
  /**
   * All of stdin as text, for `-f -`; absent: the process's stdin, capped
   * (lib/resources/manifests.ts `readAllStdin`).
   */
  readStdin?: () => Promise<string>;
}

/** The signature every command group module exports as `register`. */
export type RegisterCommands = (program: Command, ctx: CommandContext) => void;

/** The signature of a module that adds subcommands to a group its group's index created. */
export type RegisterInGroup = (group: Command, ctx: CommandContext) => void;

/**
 * What the flag readers need of a command: commander's `Command`, or the start-up fast path's
 * own parse of argv (main.ts runs the hot commands without loading commander).
 */
export type FlagSource = Pick<Command, "optsWithGlobals">;

/** Reads the global flags from inside any (sub)command action. */
export function globalOptions(cmd: FlagSource): GlobalOptions {
  const all = cmd.optsWithGlobals() as Record<string, unknown>;
  return {
    errorFormat: all.errorFormat === "json" ? "json" : "human",
    project: all.project as string | undefined,
    organization: all.organization as string | undefined,
    context: all.context as string | undefined,
  };
}

/** The scope flags (`--project`, `--organization`, `--context`) and the environment, for lib/scope. */
export function scopeInputs(cmd: FlagSource, io: IO): ScopeInputs {
  const g = globalOptions(cmd);
  return {
    project: g.project,
    organization: g.organization,
    context: g.context,
    env: (name) => io.env(name),
  };
}
