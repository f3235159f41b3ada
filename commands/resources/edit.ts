/**
 * `datumctl edit TYPE NAME`: opens the object as YAML in the editor and applies what is saved.
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import { clientFor, importYamlModule, parseTypeArgs, SCOPE_HELP } from "./shared.ts";

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
    importYamlModule<typeof import("../../lib/resources/edit.ts")>("../../lib/resources/edit.ts"),
    import("../../lib/ui/editor.ts"),
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

/** Registers `edit`. */
export const register: RegisterCommands = (program, ctx) => {
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
};
