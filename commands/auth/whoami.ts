/**
 * `datumctl whoami`: who commands run as, against which server and scope, where the credential is
 * kept, and which overrides are in force — after asking the server that the login still works
 * (an expired or revoked login is exit 77, a server that does not answer 69).
 */
import { type CommandContext, type RegisterCommands, scopeInputs } from "../command-context.ts";
import type { ScopeInputs } from "../../lib/scope/resolve.ts";
import { labelled, parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";
import { whoami } from "../../lib/scope/whoami.ts";
import { hostOf } from "../../lib/auth/endpoints.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";

/** `whoami`: prints who commands run as (text, or `-o json|yaml`). */
export async function showWhoami(
  ctx: CommandContext,
  flags: { output?: string; offline?: boolean },
  inputs: ScopeInputs,
): Promise<void> {
  const io = ctx.io;
  const format = parseStructuredOutput(flags.output);
  const who = await whoami(inputs);
  const { session, endpoint, context, organization, project, credentials, overrides } = who;
  let user = who.user;
  if (!flags.offline) {
    // Ask the server whether the login still works (gh's `auth status`); fails if not.
    const checker = "../../lib/scope/login-check.ts";
    const { confirmLogin } = await import(
      checker
    ) as typeof import("../../lib/scope/login-check.ts");
    const checked = await confirmLogin(who, (n) => io.env(n), (l) => io.err(terminalLine(l)));
    user = { ...who.user, subject: who.user.subject ?? checked.subject };
  }

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
    .option("--offline", "report from the config only, without asking the server (fast)")
    .addHelpText(
      "after",
      `
The login is checked against its server first: an expired or revoked login exits 77,
a server that cannot be reached 69 (--offline skips the check and reads the config only).
'datumctl auth status' checks every login.

Examples:
  datumctl whoami
  datumctl whoami -o json
  datumctl whoami --offline              # no request: for prompts and scripts
  DATUM_PROJECT=sandbox datumctl whoami   # shows the override`,
    )
    .action(async (flags: { output?: string; offline?: boolean }, cmd) => {
      await showWhoami(ctx, flags, scopeInputs(cmd, ctx.io));
    });
};
