/**
 * `datumctl ctx current`: the current context as `ctx` lists it (`ORG` or `ORG/PROJECT`), like
 * `kubectl config current-context`; `-o json|yaml` prints the whole context.
 */
import type { Command } from "commander";
import type { CommandContext } from "../command-context.ts";
import { parseOutputFormat, renderStructured } from "../../lib/ui/output.ts";
import { CliError } from "../../lib/core/errors.ts";

async function current(ctx: CommandContext, output: string | undefined) {
  const format = parseOutputFormat(output, ["text", "json", "yaml"] as const, "text");
  const [{ currentContext, notLoggedIn }, { contextView }] = await Promise.all([
    import("../../lib/auth/sessions.ts"),
    import("../../lib/scope/contexts.ts"),
  ]);
  const config = await ctx.config();
  if (config.sessions.length === 0) throw notLoggedIn();
  const context = currentContext(config);
  if (!context) {
    throw new CliError("NO_CONTEXT", "no current context is set", {
      hint: "Run 'datumctl ctx' to list contexts, then 'datumctl ctx use ORG/PROJECT'.",
    });
  }
  const view = contextView(config, context);
  if (format !== "text") ctx.io.out(renderStructured(view, format));
  else ctx.io.out(`${view.ref}\n`);
  for (const name of ["DATUM_CONTEXT", "DATUM_PROJECT", "DATUM_ORGANIZATION"]) {
    if (ctx.io.env(name)) {
      ctx.io.err(`note: ${name} is set and overrides it for commands run with this environment\n`);
    }
  }
}

/** Adds `ctx current` to the ctx group. */
export function registerCurrent(group: Command, ctx: CommandContext): void {
  group
    .command("current")
    .description("Print the current context (ORG or ORG/PROJECT)")
    .option("-o, --output <format>", "text, json or yaml")
    .addHelpText(
      "after",
      `
Examples:
  datumctl ctx current                 # acme-corp/infra
  datumctl ctx current -o json`,
    )
    .action((opts: { output?: string }) => current(ctx, opts.output ?? group.opts().output));
}
