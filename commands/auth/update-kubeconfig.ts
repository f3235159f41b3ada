/**
 * `datumctl auth update-kubeconfig`: let kubectl use a datumctl login.
 *
 *   auth update-kubeconfig [--project ID | --organization ID | --context REF]
 *                          [--kubeconfig PATH] [--exec-interactive-mode Never|IfAvailable|Always]
 *
 * Writes a cluster and a context named `datum-project-<id>` / `datum-organization-<id>` (made
 * current) and one user per session whose exec plugin runs this datumctl's
 * `auth get-token -o client.authentication.k8s.io/v1 --session NAME`. The target is checked first.
 */
import { type Command, Option } from "commander";
import { type CommandContext, scopeInputs } from "../command-context.ts";
import { CliError, ExitCode } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import { parseOutputFormat, renderStructured, successLine } from "../../lib/ui/output.ts";
import { caDataFromPem } from "../../lib/http/tls.ts";

const INTERACTIVE_MODES = ["Never", "IfAvailable", "Always"];

interface UpdateOptions {
  kubeconfig?: string;
  execInteractiveMode: "Never" | "IfAvailable" | "Always";
  output?: string;
}

async function updateKubeconfig(cmd: Command, ctx: CommandContext, opts: UpdateOptions) {
  const format = parseOutputFormat(opts.output, ["text", "json", "yaml"] as const, "text");
  const [{ openResourceScope }, kubeconfig, { loadConfig }] = await Promise.all([
    import("../../lib/resources/open.ts"),
    import("../../lib/kubeconfig.ts"),
    import("../../lib/store/config.ts"),
  ]);
  const env = (name: string) => ctx.io.env(name);
  const { opened } = await openResourceScope({
    inputs: scopeInputs(cmd, ctx.io),
    warn: (message) => ctx.io.err(terminalLine(`warning: ${message}`)),
    onboarding: false,
  });
  const { scope, auth } = opened;
  // Without a session the exec plugin reads DATUM_TOKEN / DATUM_CREDENTIALS, as kubectl
  // passes its environment on to it.
  const sessionName = auth.sessionName;
  if (scope.kind === "user") {
    throw new CliError("NO_TARGET", "update-kubeconfig needs a project or an organization", {
      hint: "Pass --project ID or --organization ID, or run 'datumctl ctx use' first.",
      exitCode: ExitCode.usage,
    });
  }
  await kubeconfig.assertScopeExists(opened);

  const sessions = (await loadConfig()).sessions;
  const session = sessions.find((s) => s.name === sessionName) ??
    sessions.find((s) =>
      new URL(s.endpoint.server).host === new URL(auth.apiBase).host &&
      s.endpoint["certificate-authority-data"]
    );
  const name = scope.kind === "project"
    ? `datum-project-${scope.projectId}`
    : `datum-organization-${scope.organizationId}`;
  const result = await kubeconfig.writeKubeconfigEntries({
    path: kubeconfig.kubeconfigPath(opts.kubeconfig, env),
    name,
    server: opened.controlPlane,
    sessionName,
    userName: sessionName
      ? undefined
      : auth.kind === "DATUM_TOKEN"
      ? "datum-env-token"
      : "datum-env-credentials",
    interactiveMode: opts.execInteractiveMode,
    tls: session
      ? {
        certificateAuthorityData: session.endpoint["certificate-authority-data"],
        insecureSkipTlsVerify: session.endpoint["insecure-skip-tls-verify"],
        tlsServerName: session.endpoint["tls-server-name"],
      }
      : auth.caCertificates?.length
      // SSL_CERT_FILE's CA, so kubectl trusts what datumctl trusts.
      ? { certificateAuthorityData: caDataFromPem(auth.caCertificates.join("\n")) }
      : undefined,
  }, env);
  if (format !== "text") {
    ctx.io.out(
      renderStructured(
        { ...result, server: opened.controlPlane, session: sessionName ?? null },
        format,
      ),
    );
    return;
  }
  ctx.io.out(
    successLine(
      ctx.io,
      `kubectl context "${result.context}" written to ${result.path} and made current`,
    ),
  );
  ctx.io.err(
    terminalLine(`  Server: ${opened.controlPlane}`) + terminalLine(`  User:   ${result.user}`) +
      "Try: kubectl get namespaces\n",
  );
}

/** Adds `update-kubeconfig` to the `auth` group. */
export function registerUpdateKubeconfig(auth: Command, ctx: CommandContext): void {
  auth
    .command("update-kubeconfig")
    .description("Let kubectl use this login: write a kubeconfig cluster, context and user")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
    .addOption(
      new Option("--exec-interactive-mode <mode>", "kubectl exec plugin interactiveMode")
        .choices(INTERACTIVE_MODES)
        .default("IfAvailable"),
    )
    .option("-o, --output <format>", "text, json or yaml")
    .addHelpText(
      "after",
      `
Uses the project or organization of --project / --organization / --context, else the
current context, and the login that owns it. Each login gets its own kubeconfig user whose
exec plugin runs 'datumctl auth get-token -o client.authentication.k8s.io/v1 --session NAME',
so several logins can sit side by side. Other entries and comments in the file are kept.

Examples:
  datumctl auth update-kubeconfig
  datumctl auth update-kubeconfig --project infra
  datumctl auth update-kubeconfig --organization acme-corp --kubeconfig ./datum.kubeconfig`,
    )
    .action(async (opts: UpdateOptions, cmd: Command) => {
      await updateKubeconfig(cmd, ctx, opts);
    });
}
