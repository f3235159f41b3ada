/**
 * `datumctl login`: sign in (browser, device code or service-account key), store the login, then
 * discover and pick a context.
 */
import { Option } from "commander";
import type { RegisterCommands } from "../command-context.ts";
import { globalOptions } from "../command-context.ts";
import { labelled, parseOutputFormat, renderStructured, successLine } from "../../lib/ui/output.ts";
import type { EndpointFlags } from "../../lib/auth/endpoints.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";

const HELP_AFTER = `
Flows:
  On a machine with a browser, login opens it and waits for you to sign in.
  With --no-browser, or automatically in an SSH session, a container or on Linux
  without a display, it prints a URL and a code to approve from any device.
  With --credentials, it signs in as a service account from a key file.

Environment:
  BROWSER                    command used to open the sign-in page
  DATUMCTL_CREDENTIALS_STORE keychain|file: where to keep the login (default:
                             the OS keychain, else ~/.datumctl/credentials.json)
  DATUMCTL_LOGIN_TIMEOUT     seconds to wait for the browser (default 300)
  DATUM_TOKEN, DATUM_CREDENTIALS
                             use a token or key file without logging in (CI)

Examples:
  # Sign in to Datum Cloud (production)
  datumctl login

  # Sign in from an SSH session or container
  datumctl login --no-browser

  # Sign in to staging
  datumctl login --endpoint https://api.staging.env.datum.net

  # Sign in as a service account and work in one project, without prompts
  datumctl login --credentials ./sa-key.json --project acme-corp/infra

  # Sign in to a local stack
  datumctl login --endpoint http://127.0.0.1:8080 --auth-endpoint http://127.0.0.1:8081 \\
    --client-id 340117799870791629 --no-browser`;

interface LoginFlags extends EndpointFlags {
  browser: boolean;
  credentials?: string;
  certificateAuthority?: string;
  output?: string;
}

/** Registers `login`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("login")
    .description("Sign in to Datum Cloud and choose a context")
    .option("--endpoint <API_URL>", "API server (default https://api.datum.net)")
    .option("--auth-endpoint <ISSUER_URL>", "OpenID issuer (default: derived from --endpoint)")
    .option("--client-id <ID>", "OAuth client id (needed only for non-Datum servers)")
    .option("--no-browser", "sign in with a code from any device instead of a local browser")
    .option("--credentials <KEYFILE>", "sign in as a service account with this key file")
    .option(
      "--certificate-authority <FILE>",
      "trust this CA (PEM) for the API; kept in the session for every later request",
    )
    .addOption(new Option("--hostname <AUTH_HOST>", "auth host (datumctl's flag)").hideHelp())
    .addOption(new Option("--api-hostname <API_HOST>", "API host (datumctl's flag)").hideHelp())
    .option("-o, --output <format>", "print the result as json")
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: LoginFlags, cmd) => {
      const io = ctx.io;
      const format = flags.output === undefined
        ? "human"
        : parseOutputFormat(flags.output, ["json"] as const, "json");
      const global = globalOptions(cmd);
      const { login } = await import("../../lib/auth/login.ts");
      const outcome = await login({
        endpoint: flags.endpoint,
        authEndpoint: flags.authEndpoint,
        clientId: flags.clientId,
        hostname: flags.hostname,
        apiHostname: flags.apiHostname,
        noBrowser: flags.browser === false,
        credentials: flags.credentials,
        certificateAuthority: flags.certificateAuthority,
      }, {
        say: (line) => io.err(terminalLine(line)),
        interactive: io.stderrIsTTY,
        env: (name) => io.env(name),
      });

      const { pickContext, renderAccessSummary } = await import("../../lib/ui/contexts.ts");
      const { email, name } = outcome.identity;
      if (format === "human") io.out(successLine(io, `Authenticated as ${labelled(name, email)}`));

      // Context discovery and selection.
      const [{ resolveAuthContext }, { selectContextAfterLogin }] = await Promise.all([
        import("../../lib/auth/resolve.ts"),
        import("../../lib/scope/login-contexts.ts"),
      ]);
      const auth = await resolveAuthContext({
        session: outcome.session.name,
        ignoreEnvironment: true,
        env: (n) => io.env(n),
        warn: (line) => io.err(terminalLine(line)),
      });
      const result = await selectContextAfterLogin({
        auth,
        io,
        project: global.project,
        organization: global.organization,
        pick: (views) =>
          pickContext(io, views, {
            message: "Select a context to work in:",
            flag: "--project ID or --organization ID",
          }),
        onDiscovered: (summary) => {
          if (format === "human") io.out(`\n${renderAccessSummary(summary)}\n`);
        },
      });
      if (result.warning) io.err(terminalLine(`warning: ${result.warning}`));
      if (result.notice) io.err(terminalLine(result.notice));
      if (result.hint) io.err(terminalLine(result.hint));
      if (format === "json") {
        io.out(renderStructured({
          user: { email, name: name ?? null, subject: outcome.identity.subject },
          session: outcome.session.name,
          endpoint: outcome.session.endpoint.server,
          flow: outcome.flow,
          storage: outcome.storage,
          context: result.selected?.ref ?? null,
          organizations: result.summary?.organizations ?? null,
        }, "json"));
      } else if (result.selected) {
        io.out(successLine(io, `Context set to ${result.selected.ref}`));
      }
    });
};
