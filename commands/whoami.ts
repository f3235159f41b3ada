/**
 * `datumctl whoami`: who commands run as, against which server and scope, where the credential is
 * kept, and which overrides are in force. Reads the config only: the keychain and the OIDC client
 * are not loaded (except to adopt a pre-config datumctl login the first time).
 */
import type { RegisterCommands } from "./context.ts";
import { globalOptions } from "./context.ts";
import { parseOutputFormat, renderStructured } from "../lib/ui/output.ts";
import { loadConfig, type Session } from "../lib/store/config.ts";
import { activeSession, hasMultipleEndpoints, notLoggedIn } from "../lib/auth/sessions.ts";
import { environmentCredential } from "../lib/auth/resolve.ts";
import { credentialsFilePath, storageKindHint } from "../lib/store/credentials.ts";
import { hostOf } from "../lib/auth/endpoints.ts";
import { type ResolvedScope, resolveScope } from "../lib/scope/resolve.ts";

function labelled(displayName: string | undefined, id: string): string {
  return displayName && displayName !== id ? `${displayName} (${id})` : id;
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
      const io = ctx.io;
      const env = (n: string) => io.env(n);
      const format = flags.output === undefined
        ? undefined
        : parseOutputFormat(flags.output, ["json", "yaml"] as const, "json");
      const global = globalOptions(cmd);
      let config = await loadConfig();
      const envCredential = environmentCredential(env);

      let scope: ResolvedScope | undefined;
      try {
        scope = resolveScope(config, {
          project: global.project,
          organization: global.organization,
          context: global.context,
          env,
        });
      } catch { /* no context: shown as (none) */ }

      let session: Session | undefined = scope?.sessionName
        ? config.sessions.find((s) => s.name === scope!.sessionName)
        : activeSession(config);
      if (!session && !envCredential && config.sessions.length === 0) {
        // A login made by pre-config datumctl: adopt it once (this reads the credential store).
        const [{ bootstrapLegacySession }, { CredentialStore }] = await Promise.all([
          import("../lib/auth/migrations.ts"),
          import("../lib/store/credentials.ts"),
        ]);
        session = await bootstrapLegacySession(new CredentialStore({ env }));
        config = await loadConfig();
      }
      if (!session && !envCredential) throw notLoggedIn();

      let user: { email: string; name?: string; subject?: string };
      let server: string;
      let credentials: Record<string, string>;
      if (envCredential) {
        const { resolveAuthContext } = await import("../lib/auth/resolve.ts");
        const auth = await resolveAuthContext({ env, session: session?.name });
        user = { ...auth.identity };
        server = auth.apiBase;
        credentials = envCredential.kind === "DATUM_TOKEN"
          ? { source: "DATUM_TOKEN" }
          : { source: "DATUM_CREDENTIALS", path: envCredential.path };
      } else {
        user = { email: session!["user-email"], name: session!["user-name"] };
        server = session!.endpoint.server;
        const storage = await storageKindHint(env);
        credentials = storage === "file"
          ? { source: "session", storage, path: credentialsFilePath(env) }
          : { source: "session", storage };
      }

      const overrides: string[] = [];
      if (envCredential?.kind === "DATUM_TOKEN") overrides.push("DATUM_TOKEN");
      if (envCredential?.kind === "DATUM_CREDENTIALS") {
        overrides.push(`DATUM_CREDENTIALS=${envCredential.path}`);
      }
      if (scope?.override) overrides.push(scope.override);
      const contextRef = scope?.contextName && scope.sessionName
        ? scope.contextName.slice(scope.sessionName.length + 1)
        : undefined;
      const showEndpoint = !!envCredential || hasMultipleEndpoints(config);

      if (format) {
        io.out(renderStructured({
          user: { email: user.email, name: user.name ?? null, subject: user.subject ?? null },
          session: envCredential ? null : session!.name,
          endpoint: server,
          context: contextRef ?? null,
          organization: scope?.organizationId
            ? { id: scope.organizationId, displayName: scope.organizationDisplayName ?? null }
            : null,
          project: scope?.projectId
            ? { id: scope.projectId, displayName: scope.projectDisplayName ?? null }
            : null,
          credentials,
          overrides,
        }, format));
        return;
      }

      const lines: string[] = [];
      const who = user.name && user.name !== user.email
        ? `${user.name} (${user.email})`
        : user.email || "(unknown)";
      lines.push(`User:         ${who}`);
      if (showEndpoint) lines.push(`Endpoint:     ${hostOf(server)}`);
      if (contextRef) lines.push(`Context:      ${contextRef}`);
      else if (!scope) lines.push("Context:      (none) — Run 'datumctl ctx use'");
      if (scope?.organizationId) {
        lines.push(
          `Organization: ${labelled(scope.organizationDisplayName, scope.organizationId)}`,
        );
      }
      if (scope?.projectId) {
        lines.push(`Project:      ${labelled(scope.projectDisplayName, scope.projectId)}`);
      }
      if (credentials.source === "session") {
        lines.push(
          credentials.storage === "file"
            ? `Credentials:  file (${credentials.path})`
            : "Credentials:  keychain",
        );
      } else if (credentials.source === "DATUM_TOKEN") {
        lines.push("Credentials:  DATUM_TOKEN (from the environment)");
      } else {
        lines.push(`Credentials:  service-account key ${credentials.path} (DATUM_CREDENTIALS)`);
      }
      for (const override of overrides) lines.push(`Override:     ${override}`);
      io.out(lines.join("\n") + "\n");
    });
};
