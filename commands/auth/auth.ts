/**
 * `datumctl auth`: the stored logins — `list`, `switch`, `get-token` (kubectl and plugin
 * credential helper) — and `update-kubeconfig` from ./update-kubeconfig.ts.
 */
import { Command, Option } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { CliError, ExitCode } from "../../lib/core/errors.ts";
import {
  labelled,
  parseStructuredOutput,
  renderStructured,
  successLine,
} from "../../lib/ui/output.ts";
import { renderTable } from "../../lib/ui/table.ts";
import { sanitizeForTerminal, terminalLine } from "../../lib/ui/terminal-text.ts";
import type { IO } from "../../lib/core/io.ts";
import type { Session } from "../../lib/store/config.ts";
import { type GetTokenOptions, printToken } from "./get-token.ts";
import { registerUpdateKubeconfig } from "./update-kubeconfig.ts";
import { registerAuthStatus } from "./status.ts";

/** Creates the `auth` group; this module and ./update-kubeconfig.ts add its subcommands. */
function authGroup(program: Command): Command {
  return program
    .command("auth")
    .description("Manage stored logins: list, check, switch, print tokens")
    .addHelpText(
      "after",
      `
Examples:
  datumctl auth list
  datumctl auth status
  datumctl auth switch jane@acme.com
  datumctl auth get-token -o client.authentication.k8s.io/v1`,
    );
}

function registerList(auth: Command, ctx: CommandContext) {
  auth
    .command("list")
    .alias("ls")
    .description("List the stored logins")
    .option("-o, --output <format>", "json or yaml")
    .addHelpText(
      "after",
      `
Columns:
  USER      the email of the login (pass it to 'auth switch' or 'logout')
  ENDPOINT  the API server, shown when logins span several
  STATUS    Active marks the login commands use; "no credentials" means log in again
  STORAGE   where the secret is kept: keychain, or file (~/.datumctl/credentials.json)

Examples:
  datumctl auth list
  datumctl auth ls -o json`,
    )
    .action(async (flags: { output?: string }) => {
      const io = ctx.io;
      const format = parseStructuredOutput(flags.output);
      const [{ listSessions }, { CredentialStore }] = await Promise.all([
        import("../../lib/auth/sessions.ts"),
        import("../../lib/store/credentials.ts"),
      ]);
      const store = new CredentialStore({
        env: (n) => io.env(n),
        warn: (l) => io.err(terminalLine(l)),
      });
      const rows = await listSessions(store);
      if (format) {
        io.out(renderStructured(rows, format));
        return;
      }
      if (rows.length === 0) {
        io.out("No authenticated users. Run 'datumctl login' to get started.\n");
        return;
      }
      const showEndpoint = new Set(rows.map((r) => r.server)).size > 1;
      const status = (r: (typeof rows)[number]) =>
        [r.active ? "Active" : "", r.credentials === "missing" ? "no credentials" : ""]
          .filter(Boolean).join(", ");
      const headers = showEndpoint
        ? ["USER", "ENDPOINT", "STATUS", "STORAGE"]
        : ["USER", "STATUS", "STORAGE"];
      io.out(
        await renderTable(
          headers,
          rows.map((r) =>
            showEndpoint
              ? [r.email, r.endpoint, status(r), r.storage]
              : [r.email, status(r), r.storage]
          ),
        ),
      );
    });
}

async function chooseSession(
  io: IO,
  candidates: Session[],
  activeName: string | undefined,
): Promise<string> {
  if (candidates.length === 1) return candidates[0].name;
  const [{ prompter }, { hostOf }] = await Promise.all([
    import("../../lib/ui/prompter.ts"),
    import("../../lib/auth/endpoints.ts"),
  ]);
  const endpointsDiffer = new Set(candidates.map((s) => s.endpoint.server)).size > 1;
  return await prompter(io).select<string>({
    message: "Which login session?",
    choices: candidates.map((s) => ({
      value: s.name,
      name: sanitizeForTerminal(
        `${s["user-email"]}${endpointsDiffer ? `  (${hostOf(s.endpoint.server)})` : ""}${
          s.name === activeName ? "  (active)" : ""
        }`,
      ),
    })),
    default: activeName,
    withoutTerminal: {
      message: "several logins match; choosing one needs a terminal",
      hint: `Pass the session name instead, one of: ${candidates.map((s) => s.name).join(", ")}.`,
    },
  });
}

function registerSwitch(auth: Command, ctx: CommandContext) {
  auth
    .command("switch")
    .argument("[email]", "the email (or session name) of a stored login")
    .description("Make another stored login the active one")
    .option("--endpoint <API_HOST>", "pick the login of this email on this API server")
    .option("-o, --output <format>", "json or yaml")
    .addHelpText(
      "after",
      `
Switching restores the context you last used with that login (or clears the
current context if it had none). With several logins and no email, or an email
signed in to several servers, a terminal shows a picker; without a terminal
pass a session name or --endpoint.

Examples:
  datumctl auth switch
  datumctl auth switch jane@acme.com
  datumctl auth switch jane@acme.com --endpoint api.staging.env.datum.net
  datumctl auth switch jane@acme.com@api.datum.net`,
    )
    .action(async (email: string | undefined, flags: { endpoint?: string; output?: string }) => {
      const io = ctx.io;
      const format = parseStructuredOutput(flags.output);
      const [{ switchCandidates, switchSession }, { hostOf }] = await Promise.all([
        import("../../lib/auth/sessions.ts"),
        import("../../lib/auth/endpoints.ts"),
      ]);
      const { candidates, activeName } = await switchCandidates(email, {
        endpoint: flags.endpoint,
      });
      const chosen = await chooseSession(io, candidates, activeName);
      const { CredentialStore } = await import("../../lib/store/credentials.ts");
      const result = await switchSession(
        chosen,
        undefined,
        new CredentialStore({ env: (name) => io.env(name) }),
      );
      const { session, context } = result;
      if (result.activeUserProblem) {
        io.err(
          `warning: the credential store's active user was not updated (${result.activeUserProblem}); Go datumctl may still use the previous login\n`,
        );
      }
      if (format) {
        io.out(renderStructured({
          session: session.name,
          user: { email: session["user-email"], name: session["user-name"] ?? null },
          endpoint: session.endpoint.server,
          context: context ? context.name.slice(session.name.length + 1) : null,
        }, format));
        return;
      }
      const who = labelled(session["user-name"], session["user-email"]);
      let text = successLine(io, `Switched to ${who}`);
      text += context
        ? terminalLine(`  Context:  ${context.name.slice(session.name.length + 1)}`)
        : "  Context:  (none) — Run 'datumctl ctx use' to select one.\n";
      if (result.multipleEndpoints) {
        text += terminalLine(`  Endpoint: ${hostOf(session.endpoint.server)}`);
      }
      io.out(text);
    });
}

function registerGetToken(auth: Command, ctx: CommandContext) {
  auth
    .command("get-token")
    .description("Print an access token for the active login (kubectl/plugin credential helper)")
    .addOption(
      new Option("-o, --output <format>", "token or client.authentication.k8s.io/v1")
        .default("token"),
    )
    .option("--session <NAME>", "use this stored session instead of the active one")
    .addHelpText(
      "after",
      `
The token is refreshed first when it is about to expire. Without --session the
active login is used: the current context's, else the last one switched to.
DATUM_TOKEN or DATUM_CREDENTIALS, when set, take precedence.

Output:
  token                             the raw access token, no newline
  client.authentication.k8s.io/v1   a kubectl ExecCredential (JSON)

Examples:
  curl -H "Authorization: Bearer $(datumctl auth get-token)" https://api.datum.net/...
  datumctl auth get-token -o client.authentication.k8s.io/v1
  datumctl auth get-token --session jane@acme.com@api.datum.net`,
    )
    .action(async (flags: GetTokenOptions) => await printToken(ctx, flags));
}

function registerMoved(auth: Command) {
  for (const [name, now] of [["login", "datumctl login"], ["logout", "datumctl logout"]]) {
    auth
      .command(name, { hidden: true })
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new CliError("AUTH_COMMAND_MOVED", `'datumctl auth ${name}' is now '${now}'`, {
          hint: `Run '${now} --help'.`,
          exitCode: ExitCode.usage,
        });
      });
  }
}

/**
 * Registers `auth list`, `auth switch`, `auth get-token`, `auth status`, `auth update-kubeconfig`
 * (and the moved `auth login/logout`).
 */
export const register: RegisterCommands = (program, ctx) => {
  const auth = authGroup(program);
  registerList(auth, ctx);
  registerSwitch(auth, ctx);
  registerGetToken(auth, ctx);
  registerAuthStatus(auth, ctx);
  registerMoved(auth);
  registerUpdateKubeconfig(auth, ctx);
};
