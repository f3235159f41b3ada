/**
 * `datumctl config view`: the config file (`~/.datumctl/config`), redacted for sharing, like
 * `kubectl config view`. Logins' secrets are never in it; they live in the credential store.
 *
 *   config view [--minify] [--raw] [-o yaml|json]
 */
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { parseOutputFormat, renderStructured } from "../../lib/ui/output.ts";

interface ViewOptions {
  minify?: boolean;
  raw?: boolean;
  output?: string;
}

async function view(ctx: CommandContext, opts: ViewOptions) {
  const format = parseOutputFormat(opts.output, ["yaml", "json"] as const, "yaml");
  const { viewConfig } = await import("../../lib/store/config-view.ts");
  const config = await ctx.config();
  ctx.io.out(renderStructured(viewConfig(config, { raw: opts.raw, minify: opts.minify }), format));
}

/** Registers `config` with `view`. */
export const register: RegisterCommands = (program, ctx) => {
  const group = program
    .command("config")
    .description("Show datumctl's configuration (sessions, contexts, cache)");
  group
    .command("view")
    .description("Print the config file, with certificate data and secrets redacted")
    .option("--minify", "only the current context and its session")
    .option("--raw", "do not redact (the file holds no tokens; other tools' fields might)")
    .option("-o, --output <format>", "yaml (default) or json")
    .addHelpText(
      "after",
      `
The file is ~/.datumctl/config (shared with Go datumctl). Tokens and keys are kept in the
credential store, never here; see 'datumctl whoami' for where.

Examples:
  datumctl config view
  datumctl config view --minify -o json`,
    )
    .action(async (opts: ViewOptions) => {
      await view(ctx, opts);
    });
};
