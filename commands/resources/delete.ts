/**
 * `datumctl delete TYPE NAME… | -f FILE…`: deletes objects by name, selector, `--all` or from
 * manifests.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import type { ResourceType } from "../../lib/resources/discovery.ts";
import type { ResourceClient } from "../../lib/resources/operations.ts";
import {
  clientFor,
  collect,
  forEachReporting,
  loadManifestArgs,
  openScoped,
  parseDryRun,
  parseTypeArgs,
  resultLine,
  SCOPE_HELP,
  type WriteOptions,
} from "./shared.ts";

async function deleteCommand(
  cmd: Command,
  ctx: CommandContext,
  args: string[],
  opts: Partial<WriteOptions> & { ignoreNotFound?: boolean; selector?: string; all?: boolean },
) {
  const dryRun = parseDryRun(opts.dryRun);
  const files = opts.filename ?? [];
  if (files.length > 0) {
    if (args.length > 0) throw new UsageError("give either -f or TYPE NAME…, not both");
    const manifests = await loadManifestArgs(ctx, files, opts.recursive);
    const rc = await openScoped(cmd, ctx, opts.namespace);
    await forEachReporting(cmd, ctx, manifests, async (m) => {
      const result = await rc.deleteManifest(m.object, {
        dryRun,
        ignoreNotFound: opts.ignoreNotFound,
      });
      if (result) ctx.io.out(resultLine(result));
    });
    return;
  }
  const requests = parseTypeArgs(args);
  if (requests.length === 0) {
    throw new UsageError(
      "delete needs TYPE NAME…, TYPE/NAME or -f FILE",
      "Example: datumctl delete connectors c1",
    );
  }
  const targets: { rc: ResourceClient; type: ResourceType; name: string }[] = [];
  for (const request of requests) {
    const rc = await clientFor(cmd, ctx, request.type, opts);
    const type = await rc.resolveType(request.type);
    let names = request.names;
    if (names.length === 0) {
      if (!opts.all && !opts.selector) {
        throw new UsageError(
          `delete ${request.type} needs names, --selector or --all`,
          `Example: datumctl delete ${request.type} NAME`,
        );
      }
      names = (await rc.list(type, { labelSelector: opts.selector, namespace: opts.namespace }))
        .items
        .map((o) => o.metadata?.name ?? "")
        .filter(Boolean);
      if (names.length === 0) ctx.io.err("No resources found.\n");
    }
    targets.push(...names.map((name) => ({ rc, type, name })));
  }
  await forEachReporting(cmd, ctx, targets, async ({ rc, type, name }) => {
    const result = await rc.delete(type, name, {
      namespace: opts.namespace,
      dryRun,
      ignoreNotFound: opts.ignoreNotFound,
    });
    if (result) ctx.io.out(resultLine(result));
  });
}

/** Registers `delete`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("delete")
    .description("Delete resources by name or from manifests")
    .argument("[type-and-names...]", "TYPE NAME… or TYPE/NAME…")
    .option("-f, --filename <path>", "file, folder or - (stdin); repeatable", collect, [])
    .option("-R, --recursive", "descend into sub-folders of -f folders")
    .option("-l, --selector <selector>", "delete every object of TYPE matching the selector")
    .option("--all", "delete every object of TYPE")
    .option("--ignore-not-found", "objects that do not exist are not an error")
    .option("--dry-run [mode]", "server or client")
    .option("-n, --namespace <namespace>", "namespace of namespaced types")
    .addHelpText(
      "after",
      `
Examples:
  datumctl delete httpproxies my-proxy
  datumctl delete -f manifests.yaml
${SCOPE_HELP}`,
    )
    .action(async (args: string[], opts, cmd: Command) => {
      await deleteCommand(cmd, ctx, args, opts);
    });
};
