/**
 * What the resource verbs (one module each in this folder) share: opening the scope's control
 * plane, reading `-f` manifests, `--dry-run` and the write verbs' `-o`, result lines, reporting
 * per-object failures, and the scope paragraph of their help.
 */
import type { Command } from "commander";
import {
  type CommandContext,
  type FlagSource,
  globalOptions,
  scopeInputs,
} from "../command-context.ts";
import { CliError, ExitCode, UsageError } from "../../lib/core/errors.ts";
import { formatError } from "../../lib/ui/error-output.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import { parseResourceOutput, printObjects, type ResourceOutput } from "../../lib/ui/printers.ts";
import type { DryRun, ResourceClient, WriteResult } from "../../lib/resources/operations.ts";
import type { ReadOptions } from "../../lib/resources/read.ts";
import type { Manifest } from "../../lib/resources/manifests.ts";
export { parseTypeArgs, type TypeRequest } from "../../lib/resources/type-args.ts";

/** The scope paragraph every resource verb's help ends with. */
export const SCOPE_HELP = `
Scope: --project, --organization or --context for one command, else DATUM_PROJECT /
DATUM_ORGANIZATION / DATUM_CONTEXT, else the current context ('datumctl ctx use').`;

/** Collects a repeatable flag's values (`-f a -f b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A warn callback that prints `warning: …` lines on stderr, sanitised for the terminal. */
export function warnTo(ctx: CommandContext): (message: string) => void {
  return (message) => ctx.io.err(terminalLine(`warning: ${message}`));
}

/** Opens the resource client of the resolved scope (its project control plane). */
export async function openScoped(
  cmd: Command,
  ctx: CommandContext,
  namespace?: string,
): Promise<ResourceClient> {
  const { openResourceScope } = await import("../../lib/resources/open.ts");
  const { resources } = await openResourceScope({
    inputs: scopeInputs(cmd, ctx.io),
    warn: warnTo(ctx),
    namespace,
  });
  return resources;
}

/** Reads `--dry-run[=server|client]`. */
export function parseDryRun(value: string | boolean | undefined): DryRun {
  if (value === undefined || value === false || value === "none") return "none";
  if (value === true || value === "client") return "client";
  if (value === "server") return "server";
  throw new UsageError(
    `invalid --dry-run value "${value}"`,
    "Use --dry-run=server (validated by the server) or --dry-run=client.",
  );
}

/** kubectl's result line of a write: `connector.networking/c1 created (dry run)`. */
export function resultLine(result: WriteResult): string {
  const suffix = result.dryRun === "server"
    ? " (server dry run)"
    : result.dryRun === "client"
    ? " (dry run)"
    : "";
  return terminalLine(`${result.ref} ${result.action}${suffix}`);
}

/** Runs `step` for each item; reports failures as they happen and fails at the end if any did. */
export async function forEachReporting<T>(
  cmd: Command,
  ctx: CommandContext,
  items: T[],
  step: (item: T) => Promise<void>,
): Promise<void> {
  const format = globalOptions(cmd).errorFormat;
  const failures: unknown[] = [];
  for (const item of items) {
    try {
      await step(item);
    } catch (err) {
      if (items.length === 1) throw err;
      failures.push(err);
      ctx.io.err(formatError(err, format));
    }
  }
  if (failures.length > 0) {
    const worst = failures.find((f) => f instanceof CliError) as CliError | undefined;
    throw new CliError(
      "PARTIAL_FAILURE",
      `${failures.length} of ${items.length} objects failed (see above)`,
      { exitCode: worst?.exitCode ?? ExitCode.error },
    );
  }
}

/**
 * `import()` by a computed specifier, for modules that pull in the yaml package: `deno run`
 * resolves every npm package a literal `import("…")` reaches when this module loads, which costs
 * `get` several milliseconds (docs/performance.md). scripts/compile.ts embeds these.
 */
export function importYamlModule<T>(specifier: string): Promise<T> {
  return import(specifier);
}

/** Reads the `-f` manifests (files, folders, `-` for stdin). */
export async function loadManifestArgs(
  ctx: CommandContext,
  files: string[],
  recursive?: boolean,
): Promise<Manifest[]> {
  const { loadManifests, readAllStdin } = await importYamlModule<
    typeof import("../../lib/resources/manifests.ts")
  >("../../lib/resources/manifests.ts");
  return await loadManifests(files, {
    readStdin: ctx.readStdin ?? (() => readAllStdin(ctx.io.stdin)),
    recursive,
  });
}

/** Opens the control plane a type request goes to (the organization's for projects). */
export async function clientFor(
  cmd: FlagSource,
  ctx: CommandContext,
  word: string,
  opts: { namespace?: string },
): Promise<ResourceClient> {
  const { openResourcePlane } = await import("../../lib/resources/open.ts");
  const { resources } = await openResourcePlane(word, {
    inputs: scopeInputs(cmd, ctx.io),
    warn: warnTo(ctx),
    namespace: opts.namespace,
  });
  return resources;
}

/** The listing flags of get and describe. */
export interface ListingFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  sortBy?: string;
  /** `-o`: `wide` lists whole objects, for the columns datumctl adds. */
  output?: string;
}

/** The listing flags of get/describe as lib/resources/read.ts takes them. */
export function readOptions(opts: ListingFlags): ReadOptions {
  return {
    namespace: opts.namespace,
    allNamespaces: opts.allNamespaces,
    labelSelector: opts.selector,
    fieldSelector: opts.fieldSelector,
    // Sorting, and the wide columns datumctl adds (lib/resources/wide-columns.ts), need objects.
    includeObject: opts.sortBy || opts.output === "wide" ? "Object" : undefined,
  };
}

/** Reports every NotFound but the last on stderr and throws the last (kubectl: one line each). */
export function throwMissing(cmd: FlagSource, ctx: CommandContext, missing: unknown[]): void {
  if (missing.length === 0) return;
  for (const err of missing.slice(0, -1)) {
    ctx.io.err(formatError(err, globalOptions(cmd).errorFormat));
  }
  throw missing[missing.length - 1];
}

/** The flags of the verbs that write manifests (`create`, `apply`, `diff`, `delete -f`). */
export interface WriteOptions {
  filename: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
  output?: string;
  namespace?: string;
}

/** Prints a write's result line, or the object in the `-o` format asked for. */
export async function printWrite(
  ctx: CommandContext,
  result: WriteResult,
  output: ResourceOutput | undefined,
) {
  if (!output) {
    ctx.io.out(resultLine(result));
    return;
  }
  if (output.kind === "name") ctx.io.out(`${result.ref}\n`);
  else if (result.object) ctx.io.out(await printObjects([result.object], output, true));
  else ctx.io.out(resultLine(result));
}

/** Parses `-o` of the write verbs (tables are refused). */
export async function writeOutput(
  value: string | undefined,
): Promise<ResourceOutput | undefined> {
  if (value === undefined) return undefined;
  let output: ResourceOutput;
  try {
    output = await parseResourceOutput(value);
  } catch (err) {
    // The generic hint lists table formats, which writes do not print.
    if (err instanceof UsageError && err.message.startsWith("unknown output format")) {
      throw new UsageError(err.message, "Use -o name, json, yaml or jsonpath=….");
    }
    throw err;
  }
  if (output.kind === "table" || output.kind === "wide") {
    throw new UsageError(
      `-o ${value} is not available here`,
      "Use -o name, json, yaml or jsonpath=….",
    );
  }
  return output;
}
