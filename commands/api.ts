/**
 * `datumctl api proxy`: a local, authenticated HTTP proxy to the Datum API.
 *
 *   api proxy [--port N] [--session NAME] [--project ID | --organization ID] [-q]
 *
 * Any HTTP client or Kubernetes SDK pointed at the printed URL talks to the API as this login,
 * without handling tokens. The only stdout line is the URL, printed once listening (scripts can
 * wait for it); the banner and one access-log line per request go to stderr.
 */
import type { Command } from "commander";
import { type CommandContext, globalOptions, type RegisterCommands } from "./context.ts";
import { onStopSignal } from "../lib/process/signals.ts";
import { UsageError } from "../lib/core/errors.ts";
import { terminalLine } from "../lib/ui/terminal-text.ts";
import { registerApiRequest } from "./api-request.ts";

interface ProxyOptions {
  port: string;
  session?: string;
  quiet?: boolean;
}

async function proxy(cmd: Command, ctx: CommandContext, opts: ProxyOptions) {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid --port "${opts.port}"`, "Use 0 (any free port) to 65535.");
  }
  const g = globalOptions(cmd);
  if (g.context) {
    throw new UsageError(
      "api proxy takes its scope from --project or --organization only",
      "Pass --project ID or --organization ID (or neither for the API root).",
    );
  }
  if (g.project && g.organization) {
    throw new UsageError("--project and --organization cannot both be set", "Give one of them.");
  }
  const [{ storedAuthLoader }, urls, { startApiProxy }] = await Promise.all([
    import("../lib/scope/open.ts"),
    import("../lib/api/urls.ts"),
    import("../lib/proxy/api-proxy.ts"),
  ]);
  const env = (name: string) => ctx.io.env(name);
  const auth = await storedAuthLoader(env, (m) => ctx.io.err(terminalLine(`warning: ${m}`)))(
    opts.session,
  );
  // Fail before listening when the login cannot produce a token at all.
  await auth.tokens.accessToken();
  const upstream = g.project
    ? urls.projectControlPlaneUrl(auth.apiBase, g.project)
    : g.organization
    ? urls.organizationControlPlaneUrl(auth.apiBase, g.organization)
    : urls.apiBaseUrl(auth.apiBase);
  const scope = g.project
    ? `project ${g.project}`
    : g.organization
    ? `organization ${g.organization}`
    : "API root (all control planes)";

  const server = await startApiProxy({
    auth,
    upstream,
    port,
    onAccess: opts.quiet ? undefined : (line) => ctx.io.err(terminalLine(line)),
  });
  if (!opts.quiet) {
    ctx.io.err(
      terminalLine(`Session:   ${auth.sessionName ?? auth.kind} (${auth.identity.email})`) +
        terminalLine(`Upstream:  ${upstream}`) +
        terminalLine(`Scope:     ${scope}`) +
        `Listening: ${server.url} (127.0.0.1 only; Ctrl-C to stop)\n`,
    );
  }
  ctx.io.out(`${server.url}\n`);

  const stop = () => {
    // Requests in flight (watches) get 2 s to finish before they are cut.
    server.close(2000).catch(() => {});
  };
  // Registered, so a signal held while a refreshed token is stored stops the proxy once.
  const unlisten = onStopSignal(stop, Deno.build.os === "windows" ? ["SIGINT"] : undefined);
  try {
    await server.finished;
  } finally {
    unlisten();
  }
}

/** Registers `api proxy`. */
export const register: RegisterCommands = (program, ctx) => {
  const api = program.command("api").description("Raw access to the Datum API");
  registerApiRequest(api, ctx);
  api
    .command("proxy")
    .description("Run a local proxy that adds your login's token to every request")
    .option("--port <n>", "local port (0 = any free port)", "0")
    .option("--session <name>", "use this stored session instead of the active one")
    .option("-q, --quiet", "print only the URL: no banner, no access log")
    .addHelpText(
      "after",
      `
The proxy listens on 127.0.0.1 only. The Authorization header of each request is replaced
by a fresh bearer token. Responses stream through unbuffered (watch, server-sent events).
Failures of the proxy itself answer with the header X-Datum-Proxy-Error: true and a
Kubernetes Status body (502 when the upstream or the login failed).

It acts with your login, so it refuses what a web page open in your browser could send it:
  - a Host that is not 127.0.0.1 or localhost (DNS rebinding)              403
  - an Origin other than the proxy's own, or Sec-Fetch-Site: cross-site
    or same-site (a page on another site, including other localhost ports) 403
  - a POST/PUT/PATCH body that is not JSON or YAML (application/json,
    application/yaml, merge-patch, strategic-merge-patch, json-patch,
    apply-patch+yaml); pages can send text/plain and forms without CORS    415
  - a path segment that is '.' or '..' in any spelling (%2e), or holds an
    encoded slash (%2F) or a backslash: names are data, not paths          400
Programs on this machine that you run (curl, SDKs) are trusted: they send no Origin.

Upstream: the API root, or one control plane with --project / --organization (flags only;
the current context does not apply). The first stdout line is the proxy URL.

Examples:
  datumctl api proxy --port 8001 --project infra
  curl http://127.0.0.1:8001/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors
  datumctl api proxy --organization acme-corp -q`,
    )
    .action(async (opts: ProxyOptions, cmd: Command) => {
      await proxy(cmd, ctx, opts);
    });
};
