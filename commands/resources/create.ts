/**
 * `datumctl create -f FILE…`: creates the objects of manifests; an object that exists is an
 * error.
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

async function create(cmd: Command, ctx: CommandContext, opts: WriteOptions) {
  const output = await writeOutput(opts.output);
  const dryRun = parseDryRun(opts.dryRun);
  const manifests = await loadManifestArgs(ctx, opts.filename, opts.recursive);
  const rc = await openScoped(cmd, ctx, opts.namespace);
  await forEachReporting(cmd, ctx, manifests, async (m) => {
    await printWrite(ctx, await rc.create(m.object, { dryRun }), output);
  });
}

/** Registers `create`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("create")
    .description("Create resources from manifests (fails if they exist)")
    .requiredOption("-f, --filename <path>", "file, folder or - (stdin); repeatable", collect, [])
    .option("-R, --recursive", "descend into sub-folders of -f folders")
    .option("--dry-run [mode]", "server (validated, not stored) or client")
    .option("-o, --output <format>", "name|json|yaml|jsonpath=TEMPLATE instead of result lines")
    .option("-n, --namespace <namespace>", "namespace of namespaced objects without one")
    .addHelpText(
      "after",
      `
Examples:
  datumctl create -f proxy.yaml
  cat manifests.yaml | datumctl create -f -
${SCOPE_HELP}`,
    )
    .action(async (opts: WriteOptions, cmd: Command) => {
      await create(cmd, ctx, opts);
    });
};
