/**
 * `datumctl ctx`: list the organizations and projects you can work in, and choose one.
 *
 *   ctx [list|ls] [--all] [--refresh] [-o json|yaml]
 *   ctx use [REF] [-o json|yaml]
 *
 * Contexts come from the API (discovered at login, on `--refresh`, and when the cache is older
 * than an hour); the login code is loaded only when a refresh is actually needed.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import {
  choosableContexts,
  contextListing,
  type RefreshOptions,
  useContextRefreshing,
} from "../../lib/scope/listing.ts";
import { parseOutputFormat, renderStructured, successLine } from "../../lib/ui/output.ts";
import { pickContext, renderContextTable, switchedMessage } from "../../lib/ui/contexts.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import { registerCurrent } from "./current.ts";

const FORMATS = ["table", "json", "yaml"] as const;

/** The flags of `ctx` / `ctx list`. */
export interface ListOptions {
  all?: boolean;
  refresh?: boolean;
  output?: string;
}

function refreshOptions(ctx: CommandContext): RefreshOptions {
  return {
    env: (name) => ctx.io.env(name),
    warn: (message) => ctx.io.err(terminalLine(`warning: ${message}`)),
  };
}

/** `ctx` / `ctx list`: prints the contexts. */
export async function listContexts(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, FORMATS, "table");
  const { views, sessions } = await contextListing({
    ...refreshOptions(ctx),
    all: opts.all,
    refresh: opts.refresh,
  });
  if (format !== "table") {
    ctx.io.out(renderStructured(views, format));
    return;
  }
  if (views.length === 0) {
    ctx.io.err(
      "No contexts yet: you are not a member of any organization.\nCreate one in the portal, then run 'datumctl ctx --refresh'.\n",
    );
    return;
  }
  ctx.io.out(await renderContextTable(views, { withUser: opts.all && sessions.length > 1 }));
}

async function use(ctx: CommandContext, ref: string | undefined, output?: string): Promise<void> {
  const format = parseOutputFormat(output, FORMATS, "table");
  if (!ref) {
    if (!ctx.io.stdinIsTTY) {
      throw new UsageError(
        "ctx use needs a context when there is no terminal to ask",
        "Run 'datumctl ctx' to list contexts, then 'datumctl ctx use ORG/PROJECT'.",
      );
    }
    const views = await choosableContexts();
    ref = await pickContext(ctx.io, views, { message: "Select a context:", flag: "REF" });
  }
  const view = await useContextRefreshing(ref, refreshOptions(ctx));
  if (format !== "table") ctx.io.out(renderStructured(view, format));
  else ctx.io.out(successLine(ctx.io, switchedMessage(view)));
}

function listOptions(cmd: Command): Command {
  return cmd
    .option("--all", "show the contexts of every login session")
    .option("--refresh", "discover organizations and projects again from the API")
    .option("-o, --output <format>", "table, json or yaml");
}

/** Registers `ctx` (alias `context`) with `list` (`ls`) and `use`. */
export const register: RegisterCommands = (program, ctx) => {
  const group = listOptions(
    program
      .command("ctx")
      .alias("context")
      .description("List the organizations and projects you can work in, or switch between them"),
  )
    .action((opts: ListOptions) => listContexts(ctx, opts))
    .addHelpText(
      "after",
      `
A context is an organization or a project of your login, discovered from the API. Commands
work in the current context unless --project/--organization, DATUM_PROJECT/DATUM_ORGANIZATION,
--context or DATUM_CONTEXT say otherwise for one invocation.

Examples:
  datumctl ctx                          # contexts of the active login
  datumctl ctx --all -o json            # every login, as JSON
  datumctl ctx --refresh                # re-discover after joining an organization
  datumctl ctx use acme-corp/web-app    # switch to a project
  datumctl ctx use acme-corp            # switch to an organization
  datumctl ctx use                      # pick from a list (needs a terminal)`,
    );

  // Commander also accepts the group's own options after a subcommand and hands them to the
  // group, so each subcommand merges both.
  listOptions(group.command("list").alias("ls").description("List contexts (the default)"))
    .action((opts: ListOptions) => listContexts(ctx, { ...group.opts(), ...opts }));

  group
    .command("use [ref]")
    .description("Make a context current: ORG, ORG/PROJECT, a project id or a display name")
    .option("-o, --output <format>", "table, json or yaml")
    .action((ref: string | undefined, opts: { output?: string }) =>
      use(ctx, ref, opts.output ?? group.opts().output)
    )
    .addHelpText(
      "after",
      `
REF is matched in this order: the stored name, ORG/PROJECT ids, an organization id, a unique
project id, "Org Display/Project Display", a unique organization or project display name.
Without REF a picker opens on a terminal; without a terminal REF is required.

Examples:
  datumctl ctx use acme-corp/infra
  datumctl ctx use web-app
  datumctl ctx use "ACME Corp/Web App"`,
    );
  registerCurrent(group, ctx);
};
