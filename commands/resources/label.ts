/**
 * `datumctl label` and `datumctl annotate`: set (`key=value`) or remove (`key-`) labels and
 * annotations of resources, as kubectl does, with `--overwrite` to change an existing value.
 *
 *   label|annotate TYPE NAME… KEY=VAL… KEY-…  |  TYPE/NAME… KEY=VAL…  [-l SEL | --all]
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { clientFor, forEachReporting, parseDryRun, parseTypeArgs, writeOutput } from "./shared.ts";
import { printObjects } from "../../lib/ui/printers.ts";
import type { MetadataField } from "../../lib/resources/labels.ts";

interface LabelOptions {
  overwrite?: boolean;
  selector?: string;
  all?: boolean;
  list?: boolean;
  dryRun?: string | boolean;
  output?: string;
  namespace?: string;
}

/** Splits kubectl's argument list: objects first, then every `key=value` / `key-`. */
function splitArgs(args: string[]): { objects: string[]; changes: string[] } {
  const first = args.findIndex((a, i) => i > 0 && (a.includes("=") || /[^-]-$/.test(a)));
  if (first < 0) return { objects: args, changes: [] };
  return { objects: args.slice(0, first), changes: args.slice(first) };
}

async function changeMetadata(
  cmd: Command,
  ctx: CommandContext,
  field: MetadataField,
  args: string[],
  opts: LabelOptions,
) {
  const verb = field === "labels" ? "label" : "annotate";
  const done = field === "labels" ? "labeled" : "annotated";
  const lib = await import("../../lib/resources/labels.ts");
  const { objects, changes: changeArgs } = splitArgs(args);
  const requests = parseTypeArgs(objects);
  if (requests.length !== 1) {
    throw new UsageError(
      `${verb} needs one TYPE with names (or TYPE/NAME…)`,
      `Example: datumctl ${verb} connectors c1 team=web`,
    );
  }
  const output = await writeOutput(opts.output);
  const dryRun = parseDryRun(opts.dryRun);
  const changes = opts.list ? undefined : lib.parseMetadataChanges(changeArgs, field);
  const rc = await clientFor(cmd, ctx, requests[0].type, opts);
  const type = await rc.resolveType(requests[0].type);
  let names = requests[0].names;
  if (names.length === 0) {
    if (!opts.all && !opts.selector) {
      throw new UsageError(
        `${verb} ${requests[0].type} needs names, --selector or --all`,
        `Example: datumctl ${verb} ${requests[0].type} NAME key=value`,
      );
    }
    names = (await rc.list(type, { labelSelector: opts.selector, namespace: opts.namespace }))
      .items.map((o) => o.metadata?.name ?? "").filter(Boolean);
    if (names.length === 0) ctx.io.err("No resources found.\n");
  }
  await forEachReporting(cmd, ctx, names, async (name) => {
    const live = await rc.get(type, name, { namespace: opts.namespace });
    const ref = rc.ref(type, name);
    if (!changes) {
      const map = live.metadata?.[field] ?? {};
      ctx.io.out(Object.entries(map).map(([k, v]) => `${k}=${v}\n`).join(""));
      return;
    }
    const patch = lib.metadataPatch(live, field, changes, { overwrite: opts.overwrite, ref });
    let object = live;
    if (patch && dryRun !== "client") {
      object = (await rc.patch(type, name, patch, {
        namespace: opts.namespace,
        dryRun: dryRun === "server",
      })).object ?? live;
    }
    if (output?.kind === "name") ctx.io.out(`${ref}\n`);
    else if (output) ctx.io.out(await printObjects([object], output, true));
    else {
      const suffix = dryRun === "server"
        ? " (server dry run)"
        : dryRun === "client"
        ? " (dry run)"
        : "";
      ctx.io.out(`${ref} ${patch ? done : `not ${done}`}${suffix}\n`);
    }
  });
}

function metadataCommand(
  program: Command,
  ctx: CommandContext,
  field: MetadataField,
): void {
  const verb = field === "labels" ? "label" : "annotate";
  const noun = field === "labels" ? "label" : "annotation";
  const example = field === "labels"
    ? `  datumctl label connectors c1 team=web
  datumctl label connectors c1 team=api --overwrite
  datumctl label connectors c1 team-                 # remove the label
  datumctl label connectors --all env=dev
  datumctl label connectors c1 --list`
    : `  datumctl annotate httpproxies web owner='Ada Lovelace'
  datumctl annotate httpproxy/web owner=ops --overwrite
  datumctl annotate httpproxies web owner-           # remove the annotation`;
  program
    .command(verb)
    .description(`Set or remove ${noun}s of resources`)
    .argument("<type-and-changes...>", "TYPE NAME… KEY=VALUE… KEY-… (or TYPE/NAME… KEY=VALUE…)")
    .option("--overwrite", `replace ${noun}s that already have another value`)
    .option("-l, --selector <selector>", "every object of TYPE matching this label selector")
    .option("--all", "every object of TYPE")
    .option("--list", `print the object's ${noun}s instead of changing them`)
    .option("--dry-run [mode]", "server (validated, not stored) or client")
    .option("-o, --output <format>", "name|json|yaml|jsonpath=TEMPLATE instead of result lines")
    .option("-n, --namespace <namespace>", "namespace of namespaced types")
    .addHelpText(
      "after",
      `
Each object prints one line: ${field === "labels" ? "labeled" : "annotated"}, or not ${
        field === "labels" ? "labeled" : "annotated"
      } when it already was.
Changing a ${noun} that has another value needs --overwrite.

Examples:
${example}`,
    )
    .action(async (args: string[], opts: LabelOptions, cmd: Command) => {
      await changeMetadata(cmd, ctx, field, args, opts);
    });
}

/** Registers `label` and `annotate`. */
export const register: RegisterCommands = (program, ctx) => {
  metadataCommand(program, ctx, "labels");
  metadataCommand(program, ctx, "annotations");
};
