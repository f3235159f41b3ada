/**
 * `datumctl explain TYPE[.field.path]`: the fields of a resource type, from the server's OpenAPI
 * schema.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { terminalBlock } from "../../lib/ui/terminal-text.ts";
import { clientFor, SCOPE_HELP } from "./shared.ts";

async function explain(
  cmd: Command,
  ctx: CommandContext,
  target: string,
  opts: { recursive?: boolean; apiVersion?: string },
) {
  const [typeWord, ...fieldPath] = target.split(".");
  const rc = await clientFor(cmd, ctx, typeWord, {});
  const type = await rc.resolveType(opts.apiVersion ? `${opts.apiVersion}/${typeWord}` : typeWord);
  const { explainType } = await import("../../lib/resources/explain.ts");
  ctx.io.out(terminalBlock(
    await explainType(rc.api, type, fieldPath.filter(Boolean), { recursive: opts.recursive }),
  ));
}

/** Registers `explain`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("explain")
    .description("Describe the fields of a resource type (from the server's OpenAPI schema)")
    .argument("<type[.field.path]>", "e.g. httpproxies.spec.rules")
    .option("--recursive", "print every field below, names and types only")
    .option("--api-version <group/version>", "explain this group/version of the type")
    .addHelpText(
      "after",
      `
Examples:
  datumctl explain connectors
  datumctl explain httpproxies.spec.rules.backends
  datumctl explain connectors.spec --recursive
${SCOPE_HELP}`,
    )
    .action(async (target: string, opts, cmd: Command) => {
      await explain(cmd, ctx, target, opts);
    });
};
