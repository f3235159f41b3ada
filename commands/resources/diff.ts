/**
 * `datumctl diff -f FILE…`: what `apply -f` would change, as a unified diff of the live and the
 * server's dry-run objects; exit 1 means "differs", so failures exit with more than 1.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { CliError, ExitStatus } from "../../lib/core/errors.ts";
import { sanitizeForTerminal, terminalBlock } from "../../lib/ui/terminal-text.ts";
import { collect, loadManifestArgs, openScoped, SCOPE_HELP, type WriteOptions } from "./shared.ts";

/** Returns the exit code: 0 same, 1 differs; errors become exit codes above 1. */
async function diff(
  cmd: Command,
  ctx: CommandContext,
  opts: WriteOptions & { forceConflicts?: boolean },
): Promise<number> {
  try {
    const manifests = await loadManifestArgs(ctx, opts.filename, opts.recursive);
    const rc = await openScoped(cmd, ctx, opts.namespace);
    const results = [];
    for (const m of manifests) {
      const result = await rc.diff(m.object, { force: opts.forceConflicts });
      if (result.conflicts) {
        ctx.io.err(sanitizeForTerminal(
          `warning: ${result.ref}: apply would conflict with another field manager on:\n${
            result.conflicts.join("\n")
          }\nhint: the diff shows the change as with --force-conflicts\n`,
          { multiline: true },
        ));
      }
      results.push(result);
    }
    const program = ctx.io.env("DATUMCTL_EXTERNAL_DIFF") || ctx.io.env("KUBECTL_EXTERNAL_DIFF");
    if (program) {
      const { externalDiff } = await import("../../lib/resources/diff.ts");
      const external = await externalDiff(program, results);
      ctx.io.out(external.stdout);
      return external.code;
    }
    let differs = false;
    for (const r of results) {
      if (!r.diff) continue;
      differs = true;
      ctx.io.out(terminalBlock(`diff -u -N LIVE/${r.fileName} MERGED/${r.fileName}\n${r.diff}`));
    }
    return differs ? 1 : 0;
  } catch (err) {
    // diff's contract: 1 means "differs", so failures must exit with more than 1.
    if (err instanceof CliError && err.exitCode <= 1) {
      throw new CliError(err.code, err.message, {
        hint: err.hint,
        exitCode: 2,
        retryable: err.retryable,
        cause: err,
      });
    }
    if (!(err instanceof CliError)) {
      throw new CliError("DIFF_FAILED", err instanceof Error ? err.message : String(err), {
        exitCode: 2,
      });
    }
    throw err;
  }
}

/** Registers `diff`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("diff")
    .description("Show what apply -f would change")
    .requiredOption("-f, --filename <path>", "file, folder or - (stdin); repeatable", collect, [])
    .option("-R, --recursive", "descend into sub-folders of -f folders")
    .option("--force-conflicts", "compare as if conflicts were forced")
    .option("-n, --namespace <namespace>", "namespace of namespaced objects without one")
    .addHelpText(
      "after",
      `
Compares the server's dry-run apply result with the live objects (managedFields,
resourceVersion and generation left out). Set KUBECTL_EXTERNAL_DIFF (or
DATUMCTL_EXTERNAL_DIFF) to use another diff program on the LIVE and MERGED folders.

Exit status: 0 no differences, 1 differences found, >1 datumctl or diff failed.

Examples:
  datumctl diff -f proxy.yaml
${SCOPE_HELP}`,
    )
    .action(async (opts, cmd: Command) => {
      const code = await diff(cmd, ctx, opts);
      // "Differences found" is a result, not an error: leave with the status, no message.
      if (code !== 0) throw new ExitStatus(code);
    });
};
