/**
 * `datumctl get`: lists or shows resources, as kubectl does.
 *
 *   get TYPE[,TYPE…] [NAME…] | TYPE/NAME…  [-o FORMAT] [-l SEL] [--field-selector SEL] [-w] [-A]
 *
 * Types resolve through API discovery and print through lib/ui/printers. `get organizations`
 * reads the user control plane; `get projects` the scope's organization control plane. The
 * start-up fast path (../fast-path.ts) calls {@link get} without commander.
 */
import type { Command } from "commander";
import {
  type CommandContext,
  type FlagSource,
  type RegisterCommands,
  scopeInputs,
} from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { alignedRow, columnWidths, renderTable } from "../../lib/ui/table.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import {
  parseResourceOutput,
  printObjects,
  type ResourceOutput,
  tableLines,
} from "../../lib/ui/printers.ts";
import { humanAge, objectsTable } from "../../lib/resources/objects.ts";
import type { KubeObject, KubeTable } from "../../lib/resources/objects.ts";
import type { ResourceType } from "../../lib/resources/discovery.ts";
import type { ResourceClient } from "../../lib/resources/operations.ts";
import {
  clientFor,
  parseTypeArgs,
  readOptions,
  SCOPE_HELP,
  throwMissing,
  type TypeRequest,
  warnTo,
} from "./shared.ts";

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
      import("../../lib/resources/open.ts"),
      import("../../lib/resources/organizations.ts"),
      import("../../lib/scope/onboarding.ts"),
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
  ctx.io.out(await renderTable(headers, cells, { noHeaders: opts.headers === false }));
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

/** `-o`, with `--template T` meaning `-o jsonpath=T` (kubectl's go-template is not offered). */
async function getOutput(opts: GetOptions): Promise<ResourceOutput> {
  if (opts.template === undefined) return await parseResourceOutput(opts.output);
  if (opts.output !== undefined && opts.output !== "jsonpath" && opts.output !== "template") {
    throw new UsageError(
      `--template cannot be used with -o ${opts.output}`,
      "--template takes a JSONPath template: use it alone or with -o jsonpath.",
    );
  }
  return await parseResourceOutput(`jsonpath=${opts.template}`);
}

/** `get`: lists or shows resources. */
export async function get(
  cmd: FlagSource,
  ctx: CommandContext,
  args: string[],
  opts: GetOptions,
) {
  const output = await getOutput(opts);
  // Loaded only for --sort-by: every other listing runs without it.
  const sorting = opts.sortBy ? await import("../../lib/resources/sort.ts") : undefined;
  const sortKey = sorting && opts.sortBy ? sorting.parseSortBy(opts.sortBy) : undefined;
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
    import("../../lib/resources/organizations.ts"),
    import("../../lib/resources/read.ts"),
    import("../../lib/resources/operations.ts"),
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
      if (sorting && sortKey) {
        result.rows = sorting.sortByField(result.rows, sortKey, (row) => row.object);
      }
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
      ctx.io.out(await renderTable(headers, rows, { noHeaders: opts.headers === false }));
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
    if (sorting && sortKey) {
      objects.splice(0, objects.length, ...sorting.sortByField(objects, sortKey, (o) => o));
    }
    const single = resolved.length === 1 && resolved[0].request.names.length === 1;
    // Watching prints objects one by one (kubectl: no List), the listed ones first.
    const printEvent = async (type: string, object: KubeObject) => {
      const value = opts.outputWatchEvents ? { type, object } : object;
      if (output.kind === "json" || output.kind === "yaml") {
        const { renderStructured } = await import("../../lib/ui/output.ts");
        ctx.io.out(
          (output.kind === "yaml" ? "---\n" : "") + renderStructured(value, output.kind),
        );
        return;
      }
      // Custom columns print their header once, like a table being watched.
      const noHeaders = output.kind === "custom-columns";
      ctx.io.out(await printObjects([object], output, true, { noHeaders }));
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

/** Registers `get`. */
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
};
