/**
 * Resource names are data, never paths. `.`, `..`, their percent-encoded spellings, names with
 * `/` or `%`, empty and overlong names are refused with exit 2 by every CLI verb that builds a
 * URL from a name (get, describe, edit, delete, and apply/create/diff/delete -f of a manifest)
 * and by the MCP tools, before anything is sent: the objects of the namespace are all still
 * there afterwards. (`encodeURIComponent(".")` is `.`, and URL normalisation once turned
 * `…/httpproxies/.` into the collection, so `delete httpproxy .` deleted every HTTPProxy.)
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  assertSucceeded,
  cliCommand,
  type CliResult,
  isolatedEnv,
  makeHome,
  runCli,
} from "../support/cli.ts";
import { loginFlags, tokenAuth } from "../support/auth.ts";
import { startStack } from "../support/stack.ts";
import { ApiClient } from "../../lib/api/client.ts";
import { projectControlPlaneUrl } from "../../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";

/** Names that are paths in disguise, and names Kubernetes refuses outright. */
const BAD_NAMES = [".", "..", "%2e", "%2E%2E", ".%2e", "a/b", "a%2Fb", "", "x".repeat(100_000)];

function proxy(name: string): string {
  return `apiVersion: networking.datumapis.com/v1alpha
kind: HTTPProxy
metadata:
  name: ${JSON.stringify(name)}
spec:
  rules:
  - backends:
    - endpoint: https://example.com
`;
}

function label(name: string): string {
  return name.length > 20 ? `<${name.length} characters>` : JSON.stringify(name);
}

function assertRefused(res: CliResult, what: string): void {
  assert.equal(res.code, 2, `${what}: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
  assert.match(
    res.stderr,
    /^error: .*(is not a valid name|invalid metadata\.name)[^\n]*\n/,
    `${what}: one clear sentence\n${res.stderr}`,
  );
  assert.ok(res.stderr.length < 600, `${what}: no long output\n${res.stderr.slice(0, 600)}`);
  assert.doesNotMatch(res.stderr, /bug in datumctl|\n\s+at /, what);
}

Deno.test("names are data, never paths: CLI verbs and MCP tools", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { home, env: { ...STORE, ...env } });
  const api = new ApiClient({
    auth: await tokenAuth(stack, "alice@example.com"),
    baseUrl: projectControlPlaneUrl(stack.api, "infra"),
  });
  const remaining = async () =>
    (await api.list<{ metadata: { name: string } }>(PROXIES)).items.map((o) => o.metadata.name)
      .sort();
  const dir = await Deno.makeTempDir({ prefix: "datumctl-names-" });
  try {
    assertSucceeded(await cli(["login", ...loginFlags(stack), "--no-browser"]), "login");
    assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"]), "ctx use");
    await Deno.writeTextFile(`${dir}/two.yaml`, `${proxy("web-a")}---\n${proxy("web-b")}`);
    assertSucceeded(await cli(["apply", "-f", `${dir}/two.yaml`]), "apply two proxies");
    assert.deepEqual(await remaining(), ["web-a", "web-b"]);

    await t.step("get, describe and delete refuse every bad name (exit 2)", async () => {
      for (const name of BAD_NAMES) {
        const runs = await Promise.all([
          cli(["get", "httpproxy", name]),
          cli(["describe", "httpproxy", name]),
          cli(["delete", "httpproxy", name]),
        ]);
        ["get", "describe", "delete"].forEach((verb, i) =>
          assertRefused(runs[i], `${verb} httpproxy ${label(name)}`)
        );
      }
      assert.deepEqual(await remaining(), ["web-a", "web-b"]);
    });

    await t.step("TYPE/NAME forms and edit refuse them too", async () => {
      const runs = await Promise.all([
        cli(["get", "httpproxy/."]),
        cli(["delete", "httpproxy/.."]),
        cli(["edit", "httpproxy", "."], { EDITOR: "true" }),
        cli(["edit", "httpproxy/%2E%2E"], { EDITOR: "true" }),
      ]);
      assertRefused(runs[0], "get httpproxy/.");
      assertRefused(runs[1], "delete httpproxy/..");
      assertRefused(runs[2], "edit httpproxy .");
      assertRefused(runs[3], "edit httpproxy/%2E%2E");
      assert.deepEqual(await remaining(), ["web-a", "web-b"]);
    });

    await t.step("manifests with such a name are refused by -f verbs", async () => {
      for (const name of [".", "..", "%2e", "a%2Fb", "x".repeat(300)]) {
        const file = `${dir}/bad.yaml`;
        await Deno.writeTextFile(file, proxy(name));
        const runs = await Promise.all([
          cli(["delete", "-f", file]),
          cli(["apply", "-f", file]),
          cli(["create", "-f", file]),
          cli(["diff", "-f", file]),
        ]);
        ["delete", "apply", "create", "diff"].forEach((verb, i) =>
          assertRefused(runs[i], `${verb} -f with name ${label(name)}`)
        );
      }
      assert.deepEqual(await remaining(), ["web-a", "web-b"]);
    });

    await t.step("a bad namespace or project is a usage error too", async () => {
      const runs = await Promise.all([
        cli(["get", "httpproxies", "-n", ".."]),
        cli(["delete", "httpproxy", "web-a", "-n", "%2e%2e"]),
        cli(["get", "httpproxies", "--project", ".."]),
      ]);
      for (const res of runs) {
        assert.equal(res.code, 2, res.stderr);
        assert.match(res.stderr, /^error: .* is not a valid (namespace|project)/);
      }
      assert.deepEqual(await remaining(), ["web-a", "web-b"]);
    });

    await t.step("the MCP get, describe and delete tools refuse them", async () => {
      const [command, ...rest] = cliCommand();
      const client = new Client({ name: "datumctl-names-test", version: "0.0.0" });
      await client.connect(
        new StdioClientTransport({
          command,
          args: [...rest, "mcp"],
          env: isolatedEnv(home, STORE),
          stderr: "pipe",
        }),
      );
      try {
        for (const name of BAD_NAMES.filter((n) => n !== "")) {
          for (const tool of ["get", "describe", "delete"]) {
            const result = await client.callTool({
              name: tool,
              arguments: { type: "httpproxies", name },
            }) as { isError?: boolean; content: { text?: string }[] };
            const text = result.content.map((c) => c.text ?? "").join("\n");
            assert.equal(result.isError, true, `${tool} ${label(name)}: ${text.slice(0, 300)}`);
            assert.match(text, /^error: .* is not a valid name/, `${tool} ${label(name)}`);
          }
        }
        const empty = await client.callTool({
          name: "delete",
          arguments: { type: "httpproxies", name: "" },
        }) as { isError?: boolean };
        assert.equal(empty.isError, true, "delete with an empty name");
      } finally {
        await client.close();
      }
      assert.deepEqual(await remaining(), ["web-a", "web-b"]);
    });
  } finally {
    await stack.stop();
  }
});
