/**
 * `datumctl api-versions`: the API group/versions the scope's control plane serves.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { parseOutputFormat, renderStructured } from "../../lib/ui/output.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import { openScoped, SCOPE_HELP } from "./shared.ts";

async function apiVersions(cmd: Command, ctx: CommandContext, opts: { output?: string }) {
  const format = parseOutputFormat(opts.output, ["text", "json", "yaml"] as const, "text");
  const rc = await openScoped(cmd, ctx);
  const doc = await rc.discovery.refresh();
  const versions = [...new Set(doc.groupVersions)].sort();
  if (format !== "text") ctx.io.out(renderStructured(versions, format));
  else ctx.io.out(versions.map(terminalLine).join(""));
}

/** Registers `api-versions`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("api-versions")
    .description("List the API group/versions the scope's control plane serves")
    .option("-o, --output <format>", "text, json or yaml")
    .addHelpText("after", `\nExample:\n  datumctl api-versions\n${SCOPE_HELP}`)
    .action(async (opts, cmd: Command) => {
      await apiVersions(cmd, ctx, opts);
    });
};
