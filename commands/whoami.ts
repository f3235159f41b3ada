/**
 * `datumctl whoami`: who commands run as, against which server and scope, where the credential is
 * kept, and which overrides are in force. Reads the config only: the keychain and the OIDC client
 * are not loaded (except to adopt a pre-config datumctl login the first time).
 */
import { type CommandContext, type RegisterCommands, scopeInputs } from "./context.ts";
import type { ScopeInputs } from "../lib/scope/resolve.ts";
import { labelled, parseStructuredOutput, renderStructured } from "../lib/ui/output.ts";
import { whoami } from "../lib/scope/whoami.ts";
import { hostOf } from "../lib/auth/endpoints.ts";
import { terminalLine } from "../lib/ui/terminal-text.ts";

/** `whoami`: prints who commands run as (text, or `-o json|yaml`). */
export async function showWhoami(
  ctx: CommandContext,
  flags: { output?: string },
  inputs: ScopeInputs,
): Promise<void> {
  const io = ctx.io;
  const format = parseStructuredOutput(flags.output);
  const who = await whoami(inputs);
  const { user, session, endpoint, context, organization, project, credentials, overrides } = who;

  if (format) {
    io.out(renderStructured(
      { user, session, endpoint, context, organization, project, credentials, overrides },
      format,
    ));
    return;
  }

  const lines: string[] = [];
  lines.push(`User:         ${labelled(user.name, user.email) || "(unknown)"}`);
  if (who.showEndpoint) lines.push(`Endpoint:     ${hostOf(endpoint)}`);
  if (context) lines.push(`Context:      ${context}`);
  else if (!who.scope) lines.push("Context:      (none) — Run 'datumctl ctx use'");
  if (organization) {
    lines.push(`Organization: ${labelled(organization.displayName, organization.id)}`);
  }
  if (project) lines.push(`Project:      ${labelled(project.displayName, project.id)}`);
  if (credentials.source === "DATUM_TOKEN") {
    lines.push("Credentials:  DATUM_TOKEN (from the environment)");
  } else if (credentials.source === "DATUM_CREDENTIALS") {
    lines.push(`Credentials:  service-account key ${credentials.path} (DATUM_CREDENTIALS)`);
  } else {
    lines.push(
      credentials.storage === "file"
        ? `Credentials:  file (${credentials.path})`
        : "Credentials:  keychain",
    );
  }
  for (const override of overrides) lines.push(`Override:     ${override}`);
  io.out(lines.map(terminalLine).join(""));
}

/** Registers `whoami`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("whoami")
    .description("Show the current user, server, context and where the login is stored")
    .option("-o, --output <format>", "json or yaml")
    .addHelpText(
      "after",
      `
Examples:
  datumctl whoami
  datumctl whoami -o json
  DATUM_PROJECT=sandbox datumctl whoami   # shows the override`,
    )
    .action(async (flags: { output?: string }, cmd) => {
      await showWhoami(ctx, flags, scopeInputs(cmd, ctx.io));
    });
};
