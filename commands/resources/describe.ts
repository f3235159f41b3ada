/**
 * `datumctl describe TYPE [NAME…]`: each object in detail, with the Events recorded about it, as
 * kubectl describe shows them.
 */
import type { Command } from "commander";
import { type CommandContext, type RegisterCommands, scopeInputs } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { describeObject } from "../../lib/ui/printers.ts";
import {
  clientFor,
  parseTypeArgs,
  readOptions,
  SCOPE_HELP,
  throwMissing,
  warnTo,
} from "./shared.ts";

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
    import("../../lib/resources/organizations.ts"),
    import("../../lib/resources/read.ts"),
  ]);
  for (const request of requests) {
    if (isOrganizationsType(request.type)) {
      // Organizations are the user's memberships on the user control plane, as with get.
      const { openUserPlane } = await import("../../lib/resources/open.ts");
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
      import("../../lib/resources/events.ts"),
      import("../../lib/ui/events.ts"),
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

/** Registers `describe`. */
export const register: RegisterCommands = (program, ctx) => {
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
};
