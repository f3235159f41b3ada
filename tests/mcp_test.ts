/**
 * `datumctl mcp` end to end: the MCP SDK's own client spawns the CLI over stdio,
 * logged in to the local stack as alice with acme-corp/infra as the context, and lists tools,
 * reads projects, applies a manifest and reads it back, deletes it, is refused writes under
 * --read-only, gets datumctl's error and hint as a tool error, and keeps working across a token
 * refresh. A raw child process checks that stdout carries nothing but JSON-RPC.
 */
import assert from "node:assert/strict";
// The SDK's "./*" export maps `x.js` to `x.js.d.ts`, which does not exist: name the types.
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { cliCommand, type CliResult, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import { loginFlags } from "./support/auth.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
/** Access tokens live this long on the stack, so a refresh happens within the test. */
const TOKEN_TTL_SECONDS = 6;

const TOOLS = [
  "apply",
  "delete",
  "describe",
  "get",
  "list_contexts",
  "list_resource_types",
  "list_tunnels",
  "whoami",
];

const PROXY_MANIFEST = `apiVersion: networking.datumapis.com/v1alpha
kind: HTTPProxy
metadata:
  name: mcp-web
  labels:
    app: mcp-test
spec:
  rules:
    - backends:
        - endpoint: https://example.com
`;

/** The parts of an object the assertions read. */
interface ProxyObject {
  metadata: { name: string; managedFields?: { manager: string }[] };
  spec: { rules: { backends: { endpoint: string }[] }[] };
}

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

function details(res: CliResult): string {
  return `exit ${res.code}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`;
}

function textOf(result: ToolResult): string {
  return result.content.map((c) => c.text ?? "").join("\n");
}

/** A connected SDK client running `datumctl mcp …` with its stderr collected. */
class McpSession {
  stderr = "";
  readonly client = new Client({ name: "datumctl-mcp-test", version: "0.0.0" });
  readonly transport: StdioClientTransport;

  constructor(home: string, args: string[], env: Record<string, string> = {}) {
    const [command, ...rest] = cliCommand();
    this.transport = new StdioClientTransport({
      command,
      args: [...rest, "mcp", ...args],
      env: isolatedEnv(home, { ...STORE, ...env }),
      stderr: "pipe",
    });
    this.transport.stderr?.on("data", (chunk: Uint8Array | string) => {
      this.stderr += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    });
  }

  async connect(): Promise<this> {
    await this.client.connect(this.transport);
    return this;
  }

  async call(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
    return await this.client.callTool({ name, arguments: args }) as ToolResult;
  }

  /** Calls a tool that must succeed and returns its structured content. */
  async ok(name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const result = await this.call(name, args);
    assert.ok(!result.isError, `${name} failed: ${textOf(result)}\nserver stderr:\n${this.stderr}`);
    assert.ok(result.structuredContent, `${name} returned no structured content`);
    return result.structuredContent;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

async function login(
  stack: LocalStack,
  email: string,
  extra: string[],
  existingHome?: string,
): Promise<string> {
  const home = existingHome ?? await makeHome();
  await stack.setAutoApprove(email);
  const res = await runCli([
    "login",
    ...loginFlags(stack),
    "--no-browser",
    ...extra,
  ], { home, env: STORE });
  assert.equal(res.code, 0, details(res));
  return home;
}

function names(items: unknown): string[] {
  return (items as { metadata?: { name?: string } }[]).map((o) => o.metadata?.name ?? "").sort();
}

Deno.test("datumctl mcp against the local stack", async (t) => {
  const stack = await startStack({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  const sessions: McpSession[] = [];
  const open = async (home: string, args: string[] = [], env: Record<string, string> = {}) => {
    const session = new McpSession(home, args, env);
    sessions.push(session);
    return await session.connect();
  };
  try {
    const home = await login(stack, "alice@example.com", ["--project", "infra"]);
    const mcp = await open(home);

    await t.step("lists every tool, each with input and output schemas", async () => {
      const { tools } = await mcp.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOLS);
      for (const tool of tools) {
        assert.equal(tool.inputSchema.type, "object", `${tool.name} input schema`);
        assert.equal(tool.outputSchema?.type, "object", `${tool.name} output schema`);
        assert.ok((tool.description ?? "").length > 40, `${tool.name} has a real description`);
      }
      const get = tools.find((tool) => tool.name === "get")!;
      assert.deepEqual(get.inputSchema.required, ["type"]);
      for (const field of ["name", "labelSelector", "project", "organization"]) {
        assert.ok(field in (get.inputSchema.properties ?? {}), `get takes ${field}`);
      }
      assert.equal(
        tools.find((tool) => tool.name === "delete")!.annotations?.destructiveHint,
        true,
      );
      assert.match(mcp.stderr, /Starting MCP server for acme-corp\/infra/);
    });

    await t.step(
      "whoami and the current-context resource show alice in acme-corp/infra",
      async () => {
        const who = await mcp.ok("whoami");
        assert.equal((who.user as { email: string }).email, "alice@example.com");
        assert.equal((who.scope as { ref: string }).ref, "acme-corp/infra");
        assert.equal((who.scope as { reason: string }).reason, "from the current context");
        assert.equal(who.readOnly, false);

        const { resources } = await mcp.client.listResources();
        assert.ok(resources.some((r) => r.uri === "datum://context/current"));
        const read = await mcp.client.readResource({ uri: "datum://context/current" });
        const current = JSON.parse((read.contents[0] as { text: string }).text);
        assert.equal(current.scope.project.id, "infra");
        assert.equal(current.scope.organization.id, "acme-corp");
      },
    );

    await t.step("list_contexts lists alice's organizations and projects", async () => {
      const out = await mcp.ok("list_contexts");
      const refs = (out.contexts as { ref: string }[]).map((c) => c.ref).sort();
      assert.deepEqual(refs, [
        "acme-corp",
        "acme-corp/billing-api",
        "acme-corp/infra",
        "acme-corp/web-app",
        "personal",
        "personal/sandbox",
      ]);
      assert.equal(out.serverScope, "acme-corp/infra");
    });

    await t.step("get projects lists the projects of acme-corp", async () => {
      const out = await mcp.ok("get", { type: "projects" });
      assert.deepEqual(names(out.items), ["billing-api", "infra", "web-app"]);
      assert.equal((out.scope as { organization: { id: string } }).organization.id, "acme-corp");
      assert.equal(out.count, 3);
    });

    await t.step("get organizations lists alice's memberships", async () => {
      const out = await mcp.ok("get", { type: "organizations" });
      const ids = (out.items as { id: string }[]).map((o) => o.id).sort();
      assert.deepEqual(ids, ["acme-corp", "personal"]);
    });

    await t.step(
      "list_resource_types: project types, and projects for an organization",
      async () => {
        const project = await mcp.ok("list_resource_types");
        const types = (project.types as { name: string }[]).map((x) => x.name);
        assert.ok(types.includes("httpproxies"), types.join(","));
        const org = await mcp.ok("list_resource_types", { organization: "acme-corp" });
        assert.equal((org.scope as { kind: string }).kind, "organization");
        assert.ok((org.types as { name: string }[]).some((x) => x.name === "projects"));
      },
    );

    await t.step("apply creates an HTTPProxy in acme-corp/infra, get reads it back", async () => {
      const out = await mcp.ok("apply", { manifest: PROXY_MANIFEST });
      const [result] = out.results as { ref: string; action: string; object: ProxyObject }[];
      assert.equal(result.ref, "httpproxy.networking/mcp-web");
      assert.equal(result.action, "created");
      assert.equal(result.object.metadata.managedFields, undefined);

      const got = await mcp.ok("get", { type: "httpproxies", name: "mcp-web" });
      const [proxy] = got.items as unknown as ProxyObject[];
      assert.equal(proxy.spec.rules[0].backends[0].endpoint, "https://example.com");
      const listed = await mcp.ok("get", { type: "HTTPProxy", labelSelector: "app=mcp-test" });
      assert.deepEqual(names(listed.items), ["mcp-web"]);

      // The same object through the CLI, in the project named explicitly.
      const cli = await runCli(
        ["get", "httpproxies", "mcp-web", "--project", "infra", "-o", "json"],
        { home, env: STORE },
      );
      assert.equal(cli.code, 0, details(cli));
      assert.equal(JSON.parse(cli.stdout).metadata.name, "mcp-web");
      // Field manager datumctl owns what the manifest set.
      const managers = (JSON.parse(cli.stdout) as ProxyObject).metadata.managedFields!.map((f) =>
        f.manager
      );
      assert.ok(managers.includes("datumctl"), managers.join(","));

      const again = await mcp.ok("apply", { manifest: PROXY_MANIFEST });
      assert.equal((again.results as { action: string }[])[0].action, "unchanged");

      const described = await mcp.call("describe", { type: "httpproxies", name: "mcp-web" });
      assert.ok(!described.isError, textOf(described));
      assert.match(textOf(described), /Name:\s+mcp-web/);
    });

    await t.step("an unknown type comes back as a tool error with datumctl's hint", async () => {
      const result = await mcp.call("get", { type: "nosuchtypes" });
      assert.equal(result.isError, true);
      const text = textOf(result);
      assert.match(text, /^error: the server doesn't have a resource type "nosuchtypes"/);
      assert.match(text, /\nRun 'datumctl api-resources' to list the types/);
      const meta = result._meta?.["datum.net/error"] as { message: string; hint: string };
      assert.match(meta.hint, /datumctl api-resources/);
    });

    await t.step(
      "a per-call project that does not exist is used, not a silent fallback; a write there fails",
      async () => {
        // Datum serves any project id, an unknown one as an empty plane: the read is empty and
        // names the project asked for, never the server's default one.
        const listed = await mcp.ok("get", { type: "httpproxies", project: "no-such-project" });
        assert.equal((listed.scope as { project: { id: string } }).project.id, "no-such-project");
        assert.equal(listed.count, 0);
        const applied = await mcp.call("apply", {
          manifest: PROXY_MANIFEST,
          project: "no-such-project",
        });
        assert.equal(applied.isError, true, textOf(applied));
        assert.match(textOf(applied), /^error: project "no-such-project" does not exist/);
      },
    );

    await t.step("--read-only refuses apply and delete with a clear tool error", async () => {
      const ro = await open(home, ["--read-only"]);
      const { tools } = await ro.client.listTools();
      assert.match(tools.find((x) => x.name === "apply")!.description!, /read-only/);
      const applied = await ro.call("apply", { manifest: PROXY_MANIFEST.replace("mcp-web", "x") });
      assert.equal(applied.isError, true);
      assert.match(textOf(applied), /^error: apply is refused: .*--read-only/);
      assert.match(textOf(applied), /\nRestart it without --read-only/);
      const deleted = await ro.call("delete", { type: "httpproxies", name: "mcp-web" });
      assert.equal(deleted.isError, true);
      assert.match(textOf(deleted), /^error: delete is refused/);
      // Nothing changed; reads still work.
      const got = await ro.ok("get", { type: "httpproxies", name: "mcp-web" });
      assert.equal(got.count, 1);
      assert.equal((await ro.ok("whoami")).readOnly, true);
      await ro.close();
    });

    await t.step("a token refresh happens transparently", async () => {
      const credentials = `${home}/.datumctl/credentials.json`;
      const before = await Deno.readTextFile(credentials);
      // Outlive the access token the server holds; the next call must refresh it.
      await new Promise((r) => setTimeout(r, TOKEN_TTL_SECONDS * 1000));
      const out = await mcp.ok("get", { type: "httpproxies", name: "mcp-web" });
      assert.equal(out.count, 1);
      assert.notEqual(await Deno.readTextFile(credentials), before, "the login was refreshed");
    });

    await t.step("a refresh that fails is a tool error telling to log in again", async () => {
      await stack.setFault("revoked-refresh-tokens", true);
      try {
        await new Promise((r) => setTimeout(r, TOKEN_TTL_SECONDS * 1000));
        const result = await mcp.call("get", { type: "httpproxies" });
        assert.equal(result.isError, true, textOf(result));
        assert.match(textOf(result), /^error: .+\n.*datumctl login/s);
      } finally {
        await stack.setFault("revoked-refresh-tokens", false);
      }
    });

    await t.step(
      "delete removes the object; getting it again is a NotFound tool error",
      async () => {
        // The refresh token was refused above: log in again, as the error said.
        await login(stack, "alice@example.com", ["--project", "infra"], home);
        const out = await mcp.ok("delete", { type: "httpproxies", name: "mcp-web" });
        assert.deepEqual(out.result, {
          ref: "httpproxy.networking/mcp-web",
          action: "deleted",
          dryRun: false,
        });
        const result = await mcp.call("get", { type: "httpproxies", name: "mcp-web" });
        assert.equal(result.isError, true);
        assert.match(textOf(result), /not found/i);
      },
    );

    await t.step("list_tunnels: none on a machine that never opened one", async () => {
      const out = await mcp.ok("list_tunnels");
      assert.equal(out.project, "infra");
      assert.deepEqual(out.tunnels, []);
    });

    await t.step("DATUM_PROJECT picks the scope of a server", async () => {
      const other = await open(home, [], { DATUM_PROJECT: "web-app" });
      const who = await other.ok("whoami");
      assert.equal((who.scope as { ref: string }).ref, "acme-corp/web-app");
      assert.match((who.scope as { reason: string }).reason, /DATUM_PROJECT/);
      await other.close();
    });

    await t.step("without a login, tools answer datumctl's 'log in first' error", async () => {
      const nobody = await open(await makeHome());
      const who = await nobody.call("whoami");
      assert.equal(who.isError, true);
      assert.match(textOf(who), /^error: .+\n.*datumctl login/s);
      const got = await nobody.call("get", { type: "httpproxies" });
      assert.equal(got.isError, true);
      assert.match(nobody.stderr, /Starting MCP server with no scope: No active user found/);
      await nobody.close();
    });

    await t.step("stdout carries only JSON-RPC, and EOF on stdin ends the server", async () => {
      const [command, ...rest] = cliCommand();
      const child = new Deno.Command(command, {
        args: [...rest, "mcp"],
        env: isolatedEnv(home, STORE),
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      const send = (message: unknown) =>
        writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n"));
      await send({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "raw", version: "0" },
        },
      });
      await send({ jsonrpc: "2.0", method: "notifications/initialized" });
      await send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "whoami" } });
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let stdout = "";
      while (!/"id":2/.test(stdout)) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += value;
      }
      await writer.close();
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += value;
      }
      const status = await child.status;
      const stderr = new TextDecoder().decode(
        (await new Response(child.stderr).arrayBuffer()) as ArrayBuffer,
      );
      assert.equal(status.code, 0, `exit ${status.code}\nstderr:\n${stderr}`);
      const lines = stdout.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 2, stdout);
      for (const line of lines) assert.equal(JSON.parse(line).jsonrpc, "2.0", line);
      assert.match(stderr, /Starting MCP server/);
    });
  } finally {
    for (const session of sessions) await session.close().catch(() => {});
    await stack.stop();
  }
});

Deno.test("datumctl mcp --help shows how to register it with a client", async () => {
  const home = await makeHome();
  const res = await runCli(["mcp", "--help"], { home });
  assert.equal(res.code, 0, details(res));
  assert.match(res.stdout, /"mcpServers"/);
  assert.match(res.stdout, /"command": "datumctl"/);
  assert.match(res.stdout, /--read-only/);
});
