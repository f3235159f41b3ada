/**
 * The MCP `list_tunnels` tool asks the server, as `tunnel list` does: for a project the login
 * may not see (bob and personal's `sandbox`, by DATUM_PROJECT or `project:`) it answers an error
 * with the same sentence the CLI prints (exit 77 there), never "no tunnels". A project it can
 * see, where this machine never opened a tunnel, still lists none.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { cliCommand, isolatedEnv, makeHome, runCli } from "../support/cli.ts";
import { loginFlags } from "../support/auth.ts";
import { startStack } from "../support/stack.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };

interface ToolResult {
  isError?: boolean;
  content: { text?: string }[];
  structuredContent?: Record<string, unknown>;
}

async function mcpClient(home: string, env: Record<string, string> = {}): Promise<Client> {
  const [command, ...rest] = cliCommand();
  const client = new Client({ name: "datumctl-mcp-tunnels-test", version: "0.0.0" });
  await client.connect(
    new StdioClientTransport({
      command,
      args: [...rest, "mcp"],
      env: isolatedEnv(home, { ...STORE, ...env }),
      stderr: "pipe",
    }),
  );
  return client;
}

async function listTunnels(client: Client, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name: "list_tunnels", arguments: args }) as ToolResult;
  return { ...result, text: result.content.map((c) => c.text ?? "").join("\n") };
}

Deno.test("MCP list_tunnels reports an unknown project as tunnel list does", async () => {
  // bob is in acme-corp only: personal's sandbox exists but is not his.
  const stack = await startStack({ autoApprove: "bob@example.com" });
  const clients: Client[] = [];
  try {
    const home = await makeHome();
    const login = await runCli(
      ["login", ...loginFlags(stack), "--no-browser", "--project", "acme-corp/infra"],
      { home, env: STORE },
    );
    assert.equal(login.code, 0, login.stderr);
    const cli = await runCli(["tunnel", "list"], {
      home,
      env: { ...STORE, DATUM_PROJECT: "sandbox" },
    });
    assert.equal(cli.code, 77, cli.stderr);
    const sentence = cli.stderr.split("\n").find((l) => l.startsWith("error: "));
    assert.ok(sentence, cli.stderr);

    const scoped = await mcpClient(home, { DATUM_PROJECT: "sandbox" });
    clients.push(scoped);
    const byEnv = await listTunnels(scoped);
    assert.equal(byEnv.isError, true, `DATUM_PROJECT=sandbox: ${byEnv.text}`);
    assert.ok(byEnv.text.includes(sentence), `${byEnv.text}\nwant: ${sentence}`);
    assert.doesNotMatch(byEnv.text, /"tunnels"/);

    const plain = await mcpClient(home);
    clients.push(plain);
    const byArg = await listTunnels(plain, { project: "sandbox" });
    assert.equal(byArg.isError, true, `project: sandbox: ${byArg.text}`);
    assert.ok(byArg.text.includes(sentence), byArg.text);

    const visible = await listTunnels(plain);
    assert.ok(!visible.isError, visible.text);
    assert.equal(visible.structuredContent?.project, "infra");
    assert.deepEqual(visible.structuredContent?.tunnels, []);
  } finally {
    for (const client of clients) await client.close();
    await stack.stop();
  }
});
