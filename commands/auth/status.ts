/**
 * `datumctl auth status`: every login checked against its server (gh's `auth status`) — who,
 * where, and whether it still works. Exits non-zero when the login commands use fails.
 */
import type { Command } from "commander";
import type { CommandContext } from "../command-context.ts";
import { ExitCode, ExitStatus } from "../../lib/core/errors.ts";
import { parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";
import { renderTable } from "../../lib/ui/table.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";

/** Adds `status` to the `auth` group. */
export function registerAuthStatus(auth: Command, ctx: CommandContext): void {
  auth
    .command("status")
    .description("Check every stored login against its server")
    .option("-o, --output <format>", "json or yaml")
    .addHelpText(
      "after",
      `
Each login's token is renewed if it is due, then one request is made as it.

Status:
  ok           the server answered as this login
  expired      the token ran out and cannot be renewed: log in again
  revoked      the server refused a token that had not expired (signed out or revoked)
  unreachable  no answer from the server (network, outage): the login may still be fine
  invalid      the stored login or key file cannot be used as it is

Exit status: 0 when the active login is ok (others may fail), 77 when it expired or was
revoked, 69 when its server cannot be reached, 1 otherwise. DATUM_TOKEN or
DATUM_CREDENTIALS, when set, are listed first and are the active login.

Examples:
  datumctl auth status
  datumctl auth status -o json`,
    )
    .action(async (flags: { output?: string }) => {
      const io = ctx.io;
      const format = parseStructuredOutput(flags.output);
      const [{ checkAllLogins, loginCommandOf }, { hostOf }] = await Promise.all([
        import("../../lib/scope/login-check.ts"),
        import("../../lib/auth/endpoints.ts"),
      ]);
      const logins = await checkAllLogins((n) => io.env(n), (l) => io.err(terminalLine(l)));
      if (format) {
        io.out(renderStructured(
          {
            logins: logins.map((l) => ({
              user: l.user,
              session: l.session,
              endpoint: l.endpoint,
              kind: l.kind,
              active: l.active,
              status: l.status,
              ...(l.message ? { message: l.message } : {}),
            })),
          },
          format,
        ));
      } else {
        const rows = logins.map((l) => [
          l.user.email || "(unknown)",
          hostOf(l.endpoint),
          l.status,
          l.active ? "*" : "",
          l.session === null ? l.kind : l.kind === "service-account" ? "service account" : "user",
        ]);
        io.out(await renderTable(["USER", "ENDPOINT", "STATUS", "ACTIVE", "KIND"], rows));
        for (const l of logins) {
          if (l.status === "ok") continue;
          const who = `${l.user.email || l.kind} on ${hostOf(l.endpoint)}`;
          const next = l.status === "unreachable"
            ? "check your network and try again"
            : l.session === null
            ? `check ${l.kind}`
            : `run '${loginCommandOf(l, l.endpoint)}'`;
          // expired/revoked say it all; for the others the cause helps.
          const why = l.status === "unreachable" || l.status === "invalid"
            ? ` (${l.message ?? "no details"})`
            : "";
          io.err(terminalLine(`${who}: ${l.status}${why}; ${next}.`));
        }
      }
      const active = logins.find((l) => l.active);
      if (!active || active.status === "ok") return;
      throw new ExitStatus(
        active.status === "unreachable"
          ? ExitCode.unavailable
          : active.status === "invalid"
          ? ExitCode.error
          : ExitCode.noPermission,
      );
    });
}
