/**
 * `datumctl apply -f FILE…`: creates or updates the objects of manifests by server-side apply.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import {
  collect,
  forEachReporting,
  loadManifestArgs,
  openScoped,
  parseDryRun,
  printWrite,
  SCOPE_HELP,
  type WriteOptions,
  writeOutput,
} from "./shared.ts";
import { sanitizeForTerminal } from "../../lib/ui/terminal-text.ts";

async function apply(
  cmd: Command,
  ctx: CommandContext,
  opts: WriteOptions & { forceConflicts?: boolean; fieldManager?: string },
) {
  const output = await writeOutput(opts.output);
  const dryRun = parseDryRun(opts.dryRun);
  const manifests = await loadManifestArgs(ctx, opts.filename, opts.recursive);
  const rc = await openScoped(cmd, ctx, opts.namespace);
  await forEachReporting(cmd, ctx, manifests, async (m) => {
    const result = await rc.apply(m.object, {
      force: opts.forceConflicts,
      dryRun,
      fieldManager: opts.fieldManager,
    });
    await printWrite(ctx, result, output);
    if (result.conflicts) {
      ctx.io.err(sanitizeForTerminal(
        `warning: ${result.ref}: applying for real would conflict with another field manager on:\n${
          result.conflicts.join("\n")
        }\nhint: run again with --force-conflicts to take these fields over\n`,
        { multiline: true },
      ));
    }
  });
}

/** Registers `apply`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("apply")
    .description("Create or update resources from manifests (server-side apply)")
    .requiredOption("-f, --filename <path>", "file, folder or - (stdin); repeatable", collect, [])
    .option("-R, --recursive", "descend into sub-folders of -f folders")
    .option("--dry-run [mode]", "server (validated, not stored) or client")
    .option("--force-conflicts", "take over fields another manager owns")
    .option("--field-manager <name>", "field manager name", "datumctl")
    .option("--server-side", "accepted for kubectl habits; apply is always server-side")
    .option("-o, --output <format>", "name|json|yaml|jsonpath=TEMPLATE instead of result lines")
    .option("-n, --namespace <namespace>", "namespace of namespaced objects without one")
    .addHelpText(
      "after",
      `
Each object prints one line: created, configured or unchanged.

Examples:
  datumctl apply -f proxy.yaml
  datumctl apply -f manifests/ --dry-run=server
  datumctl apply -f proxy.yaml --force-conflicts
${SCOPE_HELP}`,
    )
    .action(async (opts, cmd: Command) => {
      await apply(cmd, ctx, opts);
    });
};
