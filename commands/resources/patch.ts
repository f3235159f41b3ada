/**
 * `datumctl patch TYPE NAME -p PATCH [--type merge|json]`: change fields of one object in place,
 * as `kubectl patch` does (a merge patch by default; Datum's custom resources take no strategic
 * merge patch).
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { clientFor, parseDryRun, parseTypeArgs, writeOutput } from "./shared.ts";
import { printObjects } from "../../lib/ui/printers.ts";

interface PatchOptions {
  patch?: string;
  patchFile?: string;
  type?: string;
  dryRun?: string | boolean;
  output?: string;
  namespace?: string;
}

async function patch(cmd: Command, ctx: CommandContext, args: string[], opts: PatchOptions) {
  const lib = await import("../../lib/resources/patch.ts");
  const patchType = lib.parsePatchType(opts.type);
  const output = await writeOutput(opts.output);
  const dryRun = parseDryRun(opts.dryRun);
  if (dryRun === "client") {
    throw new UsageError("patch has no client dry run", "Use --dry-run=server.");
  }
  const requests = parseTypeArgs(args);
  if (requests.length !== 1 || requests[0].names.length === 0) {
    throw new UsageError(
      "patch needs TYPE NAME (or TYPE/NAME)",
      `Example: datumctl patch connectors c1 -p '{"metadata":{"labels":{"team":"web"}}}'`,
    );
  }
  if ((opts.patch === undefined) === (opts.patchFile === undefined)) {
    throw new UsageError(
      "patch needs exactly one of -p PATCH or --patch-file FILE",
      `Example: datumctl patch connectors c1 -p '{"spec":{"connectorClassName":"datum-connect"}}'`,
    );
  }
  let text = opts.patch;
  if (opts.patchFile !== undefined) {
    try {
      text = opts.patchFile === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(opts.patchFile);
    } catch (err) {
      throw new UsageError(
        `cannot read --patch-file ${opts.patchFile}: ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  const body = lib.parsePatchText(text ?? "", patchType);
  const rc = await clientFor(cmd, ctx, requests[0].type, opts);
  const type = await rc.resolveType(requests[0].type);
  for (const name of requests[0].names) {
    const object = await lib.patchObject(rc, type, name, body, {
      patchType,
      namespace: opts.namespace,
      dryRun: dryRun === "server",
    });
    if (!output) {
      ctx.io.out(
        `${rc.ref(type, name)} patched${dryRun === "server" ? " (server dry run)" : ""}\n`,
      );
    } else if (output.kind === "name") ctx.io.out(`${rc.ref(type, name)}\n`);
    else ctx.io.out(await printObjects([object], output, true));
  }
}

/** Registers `patch`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("patch")
    .description("Change fields of a resource with a merge patch or a JSON patch")
    .argument("[type-and-names...]", "TYPE NAME… or TYPE/NAME…")
    .option("-p, --patch <patch>", "the patch, as JSON or YAML")
    .option("--patch-file <file>", "read the patch from a file (- for stdin)")
    .option("--type <type>", "merge (RFC 7386, the default) or json (RFC 6902)")
    .option("--dry-run [mode]", "server: validated by the server, not stored")
    .option("-o, --output <format>", "name|json|yaml|jsonpath=TEMPLATE instead of result lines")
    .option("-n, --namespace <namespace>", "namespace of namespaced types")
    .addHelpText(
      "after",
      `
A merge patch sets the fields it names, removes those set to null and replaces lists whole.
A JSON patch is a list of operations (add, remove, replace, move, copy, test).

Examples:
  datumctl patch connectors c1 -p '{"metadata":{"labels":{"team":"web"}}}'
  datumctl patch httpproxy/web --type json \\
      -p '[{"op":"replace","path":"/spec/rules/0/backends/0/endpoint","value":"http://127.0.0.1:9000"}]'
  datumctl patch connectors c1 --patch-file change.yaml --dry-run=server -o yaml`,
    )
    .action(async (args: string[], opts: PatchOptions, cmd: Command) => {
      await patch(cmd, ctx, args, opts);
    });
};
