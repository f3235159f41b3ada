/**
 * `datumctl api-resources`: the resource types the scope's control plane serves, from API
 * discovery.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { renderStructured } from "../../lib/ui/output.ts";
import { renderTable } from "../../lib/ui/table.ts";
import { openScoped, SCOPE_HELP } from "./shared.ts";

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
    "../../lib/resources/discovery.ts"
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
  ctx.io.out(await renderTable(headers, rows, { noHeaders: opts.headers === false }));
}

/** A `true`/`false` flag value (kubectl's); anything else is a usage error. */
function parseBoolFlag(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UsageError(`${flag} must be true or false, not "${value}"`, `Example: ${flag}=false`);
}

/** Registers `api-resources`. */
export const register: RegisterCommands = (program, ctx) => {
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
};
