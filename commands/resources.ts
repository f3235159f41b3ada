/**
 * kubectl's verbs against the resolved scope:
 *
 *   get TYPE[,TYPE…] [NAME…] | TYPE/NAME…  [-o FORMAT] [-l SEL] [--field-selector SEL] [-w] [-A]
 *   describe TYPE [NAME…]          create -f FILE…      apply -f FILE… [--dry-run=server|client]
 *   diff -f FILE…                  delete TYPE NAME… | -f FILE…      edit TYPE NAME
 *   api-resources  api-versions    explain TYPE[.field.path] [--recursive]
 *
 * Every verb resolves its scope once (`--project`/`--organization`/`--context`, env, current
 * context), types through API discovery, and prints through lib/ui/printers. `get organizations`
 * reads the user control plane; `get projects` the scope's organization control plane.
 */
import type { Command } from "commander";
import {
  type CommandContext,
  type FlagSource,
  globalOptions,
  type RegisterCommands,
  scopeInputs,
} from "./context.ts";
import { CliError, ExitCode, ExitStatus, UsageError } from "../lib/core/errors.ts";
import { formatError } from "../lib/ui/error-output.ts";
import { parseOutputFormat, renderStructured } from "../lib/ui/output.ts";
import { alignedRow, columnWidths, renderTable } from "../lib/ui/table.ts";
import { sanitizeForTerminal, terminalBlock, terminalLine } from "../lib/ui/terminal-text.ts";
import {
  describeObject,
  parseResourceOutput,
  printObjects,
  type ResourceOutput,
  tableLines,
} from "../lib/ui/printers.ts";
import {
  humanAge,
  type KubeObject,
  type KubeTable,
  objectsTable,
} from "../lib/resources/objects.ts";
import type { ResourceType } from "../lib/resources/discovery.ts";
import type { DryRun, ResourceClient, WriteResult } from "../lib/resources/operations.ts";
import type { ReadOptions } from "../lib/resources/read.ts";
import type { Manifest } from "../lib/resources/manifests.ts";
import { checkResourceName } from "../lib/api/urls.ts";
import { register as registerPatch } from "./resources/patch.ts";
import { register as registerLabel } from "./resources/label.ts";
import { register as registerWait } from "./resources/wait.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A warn callback that prints `warning: …` lines on stderr, sanitised for the terminal. */
export function warnTo(ctx: CommandContext): (message: string) => void {
  return (message) => ctx.io.err(terminalLine(`warning: ${message}`));
}

async function openScoped(
  cmd: Command,
  ctx: CommandContext,
  namespace?: string,
): Promise<ResourceClient> {
  const { openResourceScope } = await import("../lib/resources/open.ts");
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
function importYamlModule<T>(specifier: string): Promise<T> {
  return import(specifier);
}

async function loadManifestArgs(
  ctx: CommandContext,
  files: string[],
  recursive?: boolean,
): Promise<Manifest[]> {
  const { loadManifests, readAllStdin } = await importYamlModule<
    typeof import("../lib/resources/manifests.ts")
  >("../lib/resources/manifests.ts");
  return await loadManifests(files, { readStdin: () => readAllStdin(ctx.io.stdin), recursive });
}

/** One `get`/`describe`/`delete` request: a type as typed and the names asked for. */
interface TypeRequest {
  type: string;
  names: string[];
}

/**
 * kubectl's argument forms: `TYPE[,TYPE] [NAME…]` or `TYPE/NAME…`. Every name is checked
 * before anything is sent (`.`, `..`, `/`, `%`, empty or overlong names are usage errors).
 */
export function parseTypeArgs(args: string[]): TypeRequest[] {
  const requests = parseTypeWords(args);
  for (const request of requests) for (const name of request.names) checkResourceName(name);
  return requests;
}

function parseTypeWords(args: string[]): TypeRequest[] {
  if (args.length === 0) return [];
  const isSlashForm = (a: string) => a.split("/").length === 2 && !/^v\d/.test(a);
  if (isSlashForm(args[0])) {
    const requests: TypeRequest[] = [];
    for (const arg of args) {
      if (!isSlashForm(arg)) {
        throw new UsageError(
          `"${arg}" is not TYPE/NAME`,
          "Mixing TYPE/NAME with plain names is not allowed; write each as TYPE/NAME.",
        );
      }
      const [type, name] = arg.split("/");
      const existing = requests.find((r) => r.type === type);
      if (existing) existing.names.push(name);
      else requests.push({ type, names: [name] });
    }
    return requests;
  }
  const types = args[0].split(",").filter(Boolean);
  const names = args.slice(1);
  if (types.length > 1 && names.length > 0) {
    throw new UsageError(
      "names need exactly one type",
      "Use TYPE NAME… or TYPE/NAME TYPE/NAME….",
    );
  }
  return types.map((type) => ({ type, names: [...names] }));
}

// ---------------------------------------------------------------------------------------------
// get

/** The flags of `get`, as commander names them. */
export interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  watch?: boolean;
  watchOnly?: boolean;
  allNamespaces?: boolean;
  namespace?: string;
  showLabels?: boolean;
  headers?: boolean;
  ignoreNotFound?: boolean;
  sortBy?: string;
  template?: string;
  outputWatchEvents?: boolean;
}

async function getOrganizations(
  cmd: FlagSource,
  ctx: CommandContext,
  names: string[],
  output: ResourceOutput,
  opts: GetOptions,
): Promise<void> {
  const [{ openUserPlane }, { organizationRows }, { organizationPortalLink, portalUrl }] =
    await Promise.all([
      import("../lib/resources/open.ts"),
      import("../lib/resources/organizations.ts"),
      import("../lib/scope/onboarding.ts"),
    ]);
  const { auth, client } = await openUserPlane(scopeInputs(cmd, ctx.io), warnTo(ctx));
  const rows = await organizationRows(client, names);
  if (output.kind === "name") {
    ctx.io.out(rows.map((r) => `organization/${r.id}\n`).join(""));
    return;
  }
  if (output.kind !== "table" && output.kind !== "wide") {
    ctx.io.out(await printObjects(rows.map((r) => r.membership), output, names.length === 1));
    return;
  }
  if (rows.length === 0) {
    ctx.io.err("No organizations found.\n");
    return;
  }
  const wide = output.kind === "wide";
  const headers = ["ORGANIZATION", "DISPLAY NAME", "STATUS", "AGE", ...(wide ? ["USER"] : [])];
  const cells = rows.map((r) => [
    r.id,
    r.displayName,
    r.status,
    humanAge(r.creationTimestamp),
    ...(wide ? [r.email ?? r.user ?? ""] : []),
  ]);
  ctx.io.out(
    opts.headers === false
      ? (await renderTable(headers, cells)).split("\n").slice(1).join("\n")
      : await renderTable(headers, cells),
  );
  const pending = rows.filter((r) => r.reason !== "Ready");
  if (pending.length > 0) {
    const portal = portalUrl(auth.apiBase, (name) => ctx.io.env(name));
    let footer = "\nSome organizations still need setup before you can use them with datumctl:\n";
    for (const r of pending) {
      footer += terminalLine(
        `  ${r.displayName} (${r.id}): ${r.status} — ${organizationPortalLink(portal, r.id)}`,
      );
    }
    ctx.io.err(footer);
  }
}

/** Opens the control plane a type request goes to (the organization's for projects). */
export async function clientFor(
  cmd: FlagSource,
  ctx: CommandContext,
  word: string,
  opts: { namespace?: string },
): Promise<ResourceClient> {
  const { openResourcePlane } = await import("../lib/resources/open.ts");
  const { resources } = await openResourcePlane(word, {
    inputs: scopeInputs(cmd, ctx.io),
    warn: warnTo(ctx),
    namespace: opts.namespace,
  });
  return resources;
}

/** The listing flags of get/describe as lib/resources/read.ts takes them. */
function readOptions(opts: GetOptions): ReadOptions {
  return {
    namespace: opts.namespace,
    allNamespaces: opts.allNamespaces,
    labelSelector: opts.selector,
    fieldSelector: opts.fieldSelector,
    // Sorting, and the wide columns datumctl adds (lib/resources/wide-columns.ts), need objects.
    includeObject: opts.sortBy || opts.output === "wide" ? "Object" : undefined,
  };
}

/** `-o`, with `--template T` meaning `-o jsonpath=T` (kubectl's go-template is not offered). */
function getOutput(opts: GetOptions): ResourceOutput {
  if (opts.template === undefined) return parseResourceOutput(opts.output);
  if (opts.output !== undefined && opts.output !== "jsonpath" && opts.output !== "template") {
    throw new UsageError(
      `--template cannot be used with -o ${opts.output}`,
      "--template takes a JSONPath template: use it alone or with -o jsonpath.",
    );
  }
  return parseResourceOutput(`jsonpath=${opts.template}`);
}

/** `get`: lists or shows resources. */
export async function get(
  cmd: FlagSource,
  ctx: CommandContext,
  args: string[],
  opts: GetOptions,
) {
  const output = getOutput(opts);
  const { parseSortBy, sortByField } = await import("../lib/resources/sort.ts");
  const sortKey = opts.sortBy ? parseSortBy(opts.sortBy) : undefined;
  const watching = opts.watch || opts.watchOnly;
  const requests = parseTypeArgs(args);
  if (requests.length === 0) {
    throw new UsageError(
      "get needs a resource type",
      "Example: datumctl get connectors. Run 'datumctl api-resources' to list the types.",
    );
  }
  if (opts.watch || opts.watchOnly) {
    if (requests.length !== 1) throw new UsageError("watch works on one type at a time");
  }
  const [
    { isOrganizationsType, isProjectsType },
    { readObjects, readTable },
    { withTypeMeta },
  ] = await Promise.all([
    import("../lib/resources/organizations.ts"),
    import("../lib/resources/read.ts"),
    import("../lib/resources/operations.ts"),
  ]);
  if (requests.some((r) => isOrganizationsType(r.type))) {
    if (requests.length > 1) {
      throw new UsageError("organizations cannot be listed together with other types");
    }
    if (opts.watch || opts.watchOnly) throw new UsageError("organizations cannot be watched");
    return await getOrganizations(cmd, ctx, requests[0].names, output, opts);
  }

  const missing: unknown[] = [];
  const onMissing = (err: unknown) => {
    if (!opts.ignoreNotFound) missing.push(err);
  };
  const clients = new Map<string, ResourceClient>();
  const resolved: { rc: ResourceClient; type: ResourceType; request: TypeRequest }[] = [];
  for (const request of requests) {
    const key = isProjectsType(request.type) ? "org" : "scope";
    let rc = clients.get(key);
    if (!rc) {
      rc = await clientFor(cmd, ctx, request.type, opts);
      clients.set(key, rc);
    }
    resolved.push({ rc, type: await rc.resolveType(request.type), request });
  }
  const multiple = resolved.length > 1;
  const table = output.kind === "table" || output.kind === "wide";

  if (table) {
    let first = true;
    let widths: number[] | undefined;
    // The cells each listed object was shown with, so a later DELETED line repeats them.
    const shownCells = new Map<string, string[]>();
    // The listing's version: a watch started from it misses no change made after the listing.
    let listedVersion: string | undefined;
    for (const { rc, type, request } of resolved) {
      if (opts.watchOnly) break;
      const result = await readTable(rc, type, request, readOptions(opts), onMissing);
      if (request.names.length === 0) listedVersion = result.metadata?.resourceVersion;
      if (result.rows.length === 0) continue;
      if (sortKey) result.rows = sortByField(result.rows, sortKey, (row) => row.object);
      const { headers, rows } = tableLines(result, {
        wide: output.kind === "wide",
        showLabels: opts.showLabels,
        showNamespace: opts.allNamespaces && type.namespaced,
        kindPrefix: multiple ? rc.ref(type, "").slice(0, -1) : undefined,
      });
      result.rows.forEach((row, i) => shownCells.set(row.object?.metadata?.name ?? "", rows[i]));
      if (watching && opts.outputWatchEvents) {
        headers.unshift("EVENT");
        for (const cells of rows) cells.unshift("ADDED");
      }
      if (!first) ctx.io.out("\n");
      first = false;
      ctx.io.out(
        opts.headers === false
          ? (await renderTable(headers, rows)).split("\n").slice(1).join("\n")
          : await renderTable(headers, rows),
      );
      widths = await columnWidths(headers, rows);
    }
    // kubectl: --ignore-not-found prints nothing at all when nothing is there.
    if (first && missing.length === 0 && !opts.watchOnly && !opts.ignoreNotFound) {
      const only = resolved.length === 1 ? resolved[0] : undefined;
      const where = only && only.type.namespaced && !opts.allNamespaces
        ? ` in ${opts.namespace ?? only.rc.namespace} namespace`
        : "";
      ctx.io.err(terminalLine(`No resources found${where}.`));
    }
    if (opts.watch || opts.watchOnly) {
      await watchTable(ctx, resolved[0], opts, widths, shownCells, listedVersion);
    }
  } else {
    const objects: KubeObject[] = [];
    let resourceVersion: string | undefined;
    for (const { rc, type, request } of resolved) {
      const found = await readObjects(rc, type, request.names, readOptions(opts), onMissing);
      objects.push(...found.objects);
      // A named object's own resourceVersion is where a watch of it starts (kubectl's too).
      resourceVersion = found.resourceVersion ??
        (found.objects.length === 1 ? found.objects[0].metadata?.resourceVersion : undefined);
    }
    if (sortKey) objects.splice(0, objects.length, ...sortByField(objects, sortKey, (o) => o));
    const single = resolved.length === 1 && resolved[0].request.names.length === 1;
    // Watching prints objects one by one (kubectl: no List), the listed ones first.
    const printEvent = async (type: string, object: KubeObject) => {
      const value = opts.outputWatchEvents ? { type, object } : object;
      if (output.kind === "json" || output.kind === "yaml") {
        ctx.io.out(
          (output.kind === "yaml" ? "---\n" : "") + renderStructured(value, output.kind),
        );
        return;
      }
      const text = await printObjects([object], output, true);
      // Custom columns print their header once, like a table being watched.
      ctx.io.out(output.kind === "custom-columns" ? text.slice(text.indexOf("\n") + 1) : text);
    };
    if (watching && !opts.watchOnly) {
      if (output.kind === "custom-columns") {
        ctx.io.out(await printObjects([], output, false));
      }
      for (const object of objects) await printEvent("ADDED", object);
    } else if (
      !opts.watchOnly && (objects.length > 0 || output.kind === "json" || output.kind === "yaml")
    ) {
      if (!(single && objects.length === 0)) {
        ctx.io.out(await printObjects(objects, output, single));
      }
    }
    const askedForNames = resolved.some((r) => r.request.names.length > 0);
    if (
      objects.length === 0 && !askedForNames && !opts.watchOnly && output.kind !== "json" &&
      output.kind !== "yaml" && !opts.ignoreNotFound
    ) {
      ctx.io.err("No resources found.\n");
    }
    if (opts.watch || opts.watchOnly) {
      const { rc, type, request } = resolved[0];
      for await (
        const event of rc.watch(type, {
          ...readOptions(opts),
          resourceVersion,
          name: request.names.length === 1 ? request.names[0] : undefined,
        })
      ) {
        if (event.type === "BOOKMARK") continue;
        await printEvent(event.type, withTypeMeta(event.object, type));
      }
    }
  }
  throwMissing(cmd, ctx, missing);
}

/** Reports every NotFound but the last on stderr and throws the last (kubectl: one line each). */
function throwMissing(cmd: FlagSource, ctx: CommandContext, missing: unknown[]): void {
  if (missing.length === 0) return;
  for (const err of missing.slice(0, -1)) {
    ctx.io.err(formatError(err, globalOptions(cmd).errorFormat));
  }
  throw missing[missing.length - 1];
}

async function watchTable(
  ctx: CommandContext,
  target: { rc: ResourceClient; type: ResourceType; request: TypeRequest },
  opts: GetOptions,
  initialWidths: number[] | undefined,
  shownCells: Map<string, string[]>,
  listedVersion: string | undefined,
): Promise<void> {
  const { rc, type, request } = target;
  const listOptions = {
    ...readOptions(opts),
    includeObject: opts.output === "wide" ? "Object" as const : undefined,
  };
  // Start where the printed table's listing ends (or a fresh list, when it had no version), so
  // only changes after the printed table arrive.
  const resourceVersion = listedVersion ??
    (await rc.list(type, listOptions)).metadata?.resourceVersion;
  let widths = initialWidths;
  const lastCells = new Map(shownCells);
  let printedHeader = initialWidths !== undefined;
  for await (
    const event of rc.watch(type, {
      ...listOptions,
      resourceVersion,
      name: request.names.length === 1 ? request.names[0] : undefined,
    })
  ) {
    if (event.type === "BOOKMARK") continue;
    const name = event.object.metadata?.name ?? "";
    let table: KubeTable | undefined;
    if (event.type !== "DELETED") {
      table = await rc.table(type, { ...listOptions, names: [name] }).catch(() => undefined);
    }
    table ??= objectsTable([event.object]);
    const { headers, rows } = tableLines(table, {
      wide: opts.output === "wide",
      showLabels: opts.showLabels,
      showNamespace: opts.allNamespaces && type.namespaced,
    });
    let cells = rows[0] ?? [];
    // A deleted object has no server Table any more: repeat the cells it was last shown with.
    if (event.type === "DELETED" && lastCells.has(name)) cells = lastCells.get(name)!;
    lastCells.set(name, cells);
    if (opts.outputWatchEvents) {
      if (!headers.includes("EVENT")) headers.unshift("EVENT");
      cells = [event.type, ...cells];
    }
    if (!printedHeader && opts.headers !== false) {
      widths = await columnWidths(headers, rows);
      ctx.io.out(await alignedRow(headers, widths));
      printedHeader = true;
    }
    widths ??= await columnWidths(headers, rows);
    ctx.io.out(await alignedRow(cells, widths));
  }
}

// ---------------------------------------------------------------------------------------------
// describe

async function describe(
  cmd: Command,
  ctx: CommandContext,
  args: string[],
  opts: { selector?: string; namespace?: string; showEvents?: boolean },
) {
  const requests = parseTypeArgs(args);
  if (requests.length === 0) {
    throw new UsageError(
      "describe needs a resource type",
      "Example: datumctl describe connectors c1",
    );
  }
  const blocks: string[] = [];
  const missing: unknown[] = [];
  const [{ isOrganizationsType, organizationRows }, { readObjects }] = await Promise.all([
    import("../lib/resources/organizations.ts"),
    import("../lib/resources/read.ts"),
  ]);
  for (const request of requests) {
    if (isOrganizationsType(request.type)) {
      // Organizations are the user's memberships on the user control plane, as with get.
      const { openUserPlane } = await import("../lib/resources/open.ts");
      const { client } = await openUserPlane(scopeInputs(cmd, ctx.io), warnTo(ctx));
      const rows = await organizationRows(client, request.names);
      blocks.push(...rows.map((r) => describeObject(r.membership)));
      continue;
    }
    const rc = await clientFor(cmd, ctx, request.type, opts);
    const type = await rc.resolveType(request.type);
    const found = await readObjects(
      rc,
      type,
      request.names,
      readOptions(opts),
      (err) => missing.push(err),
    );
    const [{ eventsFor }, { renderEvents }] = await Promise.all([
      import("../lib/resources/events.ts"),
      import("../lib/ui/events.ts"),
    ]);
    for (const object of found.objects) {
      // kubectl's describe ends with the Events recorded about the object.
      const events = opts.showEvents === false ? undefined : await eventsFor(rc, object);
      blocks.push(describeObject(object) + (events ? await renderEvents(events) : ""));
    }
  }
  if (blocks.length > 0) ctx.io.out(blocks.join("\n\n"));
  else if (missing.length === 0) ctx.io.err("No resources found.\n");
  throwMissing(cmd, ctx, missing);
}

// ---------------------------------------------------------------------------------------------
// create / apply / delete / diff

interface WriteOptions {
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
export function writeOutput(value: string | undefined): ResourceOutput | undefined {
  if (value === undefined) return undefined;
  let output: ResourceOutput;
  try {
    output = parseResourceOutput(value);
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

async function create(cmd: Command, ctx: CommandContext, opts: WriteOptions) {
  const output = writeOutput(opts.output);
  const dryRun = parseDryRun(opts.dryRun);
  const manifests = await loadManifestArgs(ctx, opts.filename, opts.recursive);
  const rc = await openScoped(cmd, ctx, opts.namespace);
  await forEachReporting(cmd, ctx, manifests, async (m) => {
    await printWrite(ctx, await rc.create(m.object, { dryRun }), output);
  });
}

async function apply(
  cmd: Command,
  ctx: CommandContext,
  opts: WriteOptions & { forceConflicts?: boolean; fieldManager?: string },
) {
  const output = writeOutput(opts.output);
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
        ctx.io.err(
          `warning: ${result.ref}: apply would conflict with another field manager on:\n${
            result.conflicts.join("\n")
          }\nhint: the diff shows the change as with --force-conflicts\n`,
        );
      }
      results.push(result);
    }
    const program = ctx.io.env("DATUMCTL_EXTERNAL_DIFF") || ctx.io.env("KUBECTL_EXTERNAL_DIFF");
    if (program) {
      const { externalDiff } = await import("../lib/resources/diff.ts");
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

// ---------------------------------------------------------------------------------------------
// edit

async function edit(
  cmd: Command,
  ctx: CommandContext,
  args: string[],
  opts: { namespace?: string },
) {
  const requests = parseTypeArgs(args);
  if (requests.length !== 1 || requests[0].names.length !== 1) {
    throw new UsageError(
      "edit needs one TYPE NAME (or TYPE/NAME)",
      "Example: datumctl edit connectors c1",
    );
  }
  const [{ editObject }, { openInEditor }] = await Promise.all([
    importYamlModule<typeof import("../lib/resources/edit.ts")>("../lib/resources/edit.ts"),
    import("../lib/ui/editor.ts"),
  ]);
  const rc = await clientFor(cmd, ctx, requests[0].type, opts);
  const type = await rc.resolveType(requests[0].type);
  const outcome = await editObject(rc, type, requests[0].names[0], {
    namespace: opts.namespace,
    openEditor: (file) => openInEditor(ctx.io, file),
  });
  ctx.io.out(
    outcome.edited ? terminalLine(`${outcome.ref} edited`) : "Edit cancelled, no changes made.\n",
  );
}

// ---------------------------------------------------------------------------------------------
// api-resources / api-versions / explain

async function apiResources(
  cmd: Command,
  ctx: CommandContext,
  opts: { output?: string; namespaced?: string; apiGroup?: string; headers?: boolean },
) {
  const output = opts.output ?? "table";
  if (!["table", "wide", "name", "json", "yaml"].includes(output)) {
    throw new UsageError(
      `unknown output format "${output}"`,
      "Use one of: wide, name, json, yaml.",
    );
  }
  parseBoolFlag("--namespaced", opts.namespaced);
  const rc = await openScoped(cmd, ctx);
  const { preferredTypes, typeApiVersion, typeFullName } = await import(
    "../lib/resources/discovery.ts"
  );
  const types = preferredTypes(await rc.discovery.refresh(), {
    namespaced: parseBoolFlag("--namespaced", opts.namespaced),
    apiGroup: opts.apiGroup,
  });
  if (output === "name") {
    ctx.io.out(types.map((t) => `${typeFullName(t)}\n`).join(""));
    return;
  }
  if (output === "json" || output === "yaml") {
    ctx.io.out(renderStructured(types, output));
    return;
  }
  const wide = output === "wide";
  const headers = [
    "NAME",
    "SHORTNAMES",
    "APIVERSION",
    "NAMESPACED",
    "KIND",
    ...(wide ? ["VERBS", "CATEGORIES"] : []),
  ];
  const rows = types.map((t) => [
    t.plural,
    t.shortNames.join(","),
    typeApiVersion(t),
    String(t.namespaced),
    t.kind,
    ...(wide ? [t.verbs.join(","), t.categories.join(",")] : []),
  ]);
  const text = await renderTable(headers, rows);
  ctx.io.out(opts.headers === false ? text.split("\n").slice(1).join("\n") : text);
}

/** A `true`/`false` flag value (kubectl's); anything else is a usage error. */
function parseBoolFlag(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UsageError(`${flag} must be true or false, not "${value}"`, `Example: ${flag}=false`);
}

async function apiVersions(cmd: Command, ctx: CommandContext, opts: { output?: string }) {
  const format = parseOutputFormat(opts.output, ["text", "json", "yaml"] as const, "text");
  const rc = await openScoped(cmd, ctx);
  const doc = await rc.discovery.refresh();
  const versions = [...new Set(doc.groupVersions)].sort();
  if (format !== "text") ctx.io.out(renderStructured(versions, format));
  else ctx.io.out(versions.map(terminalLine).join(""));
}

async function explain(
  cmd: Command,
  ctx: CommandContext,
  target: string,
  opts: { recursive?: boolean; apiVersion?: string },
) {
  const [typeWord, ...fieldPath] = target.split(".");
  const rc = await clientFor(cmd, ctx, typeWord, {});
  const type = await rc.resolveType(opts.apiVersion ? `${opts.apiVersion}/${typeWord}` : typeWord);
  const { explainType } = await import("../lib/resources/explain.ts");
  ctx.io.out(terminalBlock(
    await explainType(rc.api, type, fieldPath.filter(Boolean), { recursive: opts.recursive }),
  ));
}

// ---------------------------------------------------------------------------------------------

const SCOPE_HELP = `
Scope: --project, --organization or --context for one command, else DATUM_PROJECT /
DATUM_ORGANIZATION / DATUM_CONTEXT, else the current context ('datumctl ctx use').`;

/** Registers get, describe, create, apply, diff, delete, edit, api-resources, api-versions, explain. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("get")
    .description("List or show resources (kubectl get)")
    .argument("[type-and-names...]", "TYPE[,TYPE…] [NAME…] or TYPE/NAME…")
    .option(
      "-o, --output <format>",
      "table|wide|json|yaml|name|jsonpath=TEMPLATE|custom-columns=SPEC",
    )
    .option("-l, --selector <selector>", "label selector, e.g. app=web,tier!=db")
    .option("--field-selector <selector>", "field selector, e.g. metadata.name=c1")
    .option("-w, --watch", "after listing, keep printing changes")
    .option("--watch-only", "print changes only, not the current list")
    .option("-A, --all-namespaces", "list namespaced types across namespaces")
    .option("-n, --namespace <namespace>", "namespace of namespaced types (Datum uses default)")
    .option("--show-labels", "add a LABELS column")
    .option("--no-headers", "leave out the header line of tables")
    .option("--ignore-not-found", "named objects that do not exist are not an error")
    .option("--sort-by <jsonpath>", "order the objects by this field, e.g. .metadata.name")
    .option("--template <template>", "a JSONPath template, the same as -o jsonpath=TEMPLATE")
    .option("--output-watch-events", "with -w: print each change as {type, object} (EVENT column)")
    .addHelpText(
      "after",
      `
Examples:
  datumctl get organizations                 # your organizations and their setup status
  datumctl get projects                      # projects of the current organization
  datumctl get connectors -o wide
  datumctl get httpproxies my-proxy -o yaml
  datumctl get connectors -o jsonpath='{.items[*].metadata.name}'
  datumctl get connectors -o custom-columns=NAME:.metadata.name,CLASS:.spec.connectorClassName
  datumctl get httpproxies -w                # watch for changes (Ctrl-C to stop)
  datumctl get connectors --sort-by=.metadata.creationTimestamp
  datumctl get connectors --template '{range .items[*]}{.metadata.name}{"\\n"}{end}'
  datumctl get connectors -w -o json --output-watch-events
${SCOPE_HELP}`,
    )
    .action(async (args: string[], opts: GetOptions, cmd: Command) => {
      await get(cmd, ctx, args, opts);
    });

  program
    .command("describe")
    .description("Show resources in detail (kubectl describe)")
    .argument("[type-and-names...]", "TYPE [NAME…] or TYPE/NAME…")
    .option("-l, --selector <selector>", "label selector")
    .option("-n, --namespace <namespace>", "namespace of namespaced types")
    .option("--no-show-events", "leave out the Events recorded about each object")
    .addHelpText(
      "after",
      `
Examples:
  datumctl describe httpproxies my-proxy
  datumctl describe connectors
${SCOPE_HELP}`,
    )
    .action(async (args: string[], opts, cmd: Command) => {
      await describe(cmd, ctx, args, opts);
    });

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

  program
    .command("edit")
    .description("Edit a resource in $KUBE_EDITOR / $EDITOR")
    .argument("<type-and-name...>", "TYPE NAME or TYPE/NAME")
    .option("-n, --namespace <namespace>", "namespace of namespaced types")
    .addHelpText(
      "after",
      `
Opens the object as YAML; saving applies the change. If the server rejects it, the editor
opens again with the reason at the top. An unchanged or empty file cancels.

Examples:
  datumctl edit httpproxies my-proxy
  KUBE_EDITOR="code --wait" datumctl edit connectors c1
${SCOPE_HELP}`,
    )
    .action(async (args: string[], opts, cmd: Command) => {
      await edit(cmd, ctx, args, opts);
    });

  program
    .command("api-resources")
    .description("List the resource types the scope's control plane serves")
    .option("-o, --output <format>", "wide|name|json|yaml")
    .option("--namespaced <bool>", "only namespaced (true) or cluster-wide (false) types")
    .option("--api-group <group>", "only this API group ('' for core)")
    .option("--no-headers", "leave out the header line")
    .addHelpText(
      "after",
      `
Examples:
  datumctl api-resources
  datumctl api-resources --api-group networking.datumapis.com -o wide
${SCOPE_HELP}`,
    )
    .action(async (opts, cmd: Command) => {
      await apiResources(cmd, ctx, opts);
    });

  program
    .command("api-versions")
    .description("List the API group/versions the scope's control plane serves")
    .option("-o, --output <format>", "text, json or yaml")
    .addHelpText("after", `\nExample:\n  datumctl api-versions\n${SCOPE_HELP}`)
    .action(async (opts, cmd: Command) => {
      await apiVersions(cmd, ctx, opts);
    });

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
  registerPatch(program, ctx);
  registerLabel(program, ctx);
  registerWait(program, ctx);
};
