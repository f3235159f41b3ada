/**
 * Tunnel ids are names, never paths. `tunnel delete|update|listen --id X` with an X that URL
 * normalisation would rewrite (`.`, `..`, `%2e`, `a/b`, …) is refused with exit 2 and one
 * sentence before any tunnel request is sent: no Connector is created for the agent, nothing is
 * deleted, and the API never sees a request for the Connector, HTTPProxy, advertisement or Lease
 * collections. The same rule (lib/api/urls.ts) holds for ids and Lease names the server sends.
 */
import assert from "node:assert/strict";
import { type CliResult, makeHome, runCli } from "../support/cli.ts";
import { loginFlags } from "../support/auth.ts";
import { startStack } from "../support/stack.ts";
import { projectApi, tunnelEnv } from "../support/tunnel.ts";
import { TunnelService } from "../../lib/tunnel/tunnel-api.ts";

const EMAIL = "alice@example.com";
const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";
const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";
const TUNNEL_PATHS =
  /\/(connectors|httpproxies|connectoradvertisements|leases|trafficprotectionpolicies)\b/;
const BAD_IDS = [".", "..", "%2e", "%2E%2E", ".%2e", "a/b", "a%2Fb", "x".repeat(300)];

/** A relay in front of the stack's API that records every request path it forwards. */
function startApiRelay(api: string) {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    paths.push(url.pathname);
    const headers = new Headers(req.headers);
    headers.delete("host");
    const answer = await fetch(`${api}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    paths,
    close: () => server.shutdown(),
  };
}

function assertRefused(res: CliResult, what: string): void {
  assert.equal(res.code, 2, `${what}: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
  assert.match(
    res.stderr,
    /^error: .* is not a valid tunnel id: [^\n]+\n/,
    `${what}\n${res.stderr}`,
  );
  assert.match(res.stderr, /tunnel list/, `${what}: the hint names 'tunnel list'`);
  assert.ok(res.stderr.length < 600, `${what}: short\n${res.stderr}`);
  assert.doesNotMatch(res.stderr, /bug in datumctl|\n\s+at /, what);
}

Deno.test("tunnel ids are names, never paths: refused with exit 2 before any tunnel request", async (t) => {
  const stack = await startStack({ autoApprove: EMAIL });
  const relay = startApiRelay(stack.api);
  try {
    const home = await makeHome();
    const env = tunnelEnv(stack);
    const login = await runCli([
      "login",
      ...loginFlags(stack).map((f) => (f === stack.api ? relay.url : f)),
      "--no-browser",
      "--project",
      "infra",
    ], { home, env });
    assert.equal(login.code, 0, login.stderr);
    const api = await projectApi(stack, EMAIL, "infra");
    await api.create(PROXIES, {
      apiVersion: "networking.datumapis.com/v1alpha",
      kind: "HTTPProxy",
      metadata: { name: "web" },
      spec: { rules: [{ backends: [{ endpoint: "https://example.com" }] }] },
    });
    const names = async (path: string) =>
      (await api.list<{ metadata: { name: string } }>(path)).items.map((o) => o.metadata.name);
    const connectorsBefore = await names(CONNECTORS);
    const sent = relay.paths.length;

    await t.step("tunnel delete --id", async () => {
      for (const id of BAD_IDS) {
        assertRefused(
          await runCli(["tunnel", "delete", "--id", id], { home, env }),
          `delete ${id}`,
        );
      }
    });
    await t.step("tunnel update --id (with and without --endpoint)", async () => {
      for (const id of BAD_IDS) {
        assertRefused(
          await runCli(["tunnel", "update", "--id", id], { home, env }),
          `update ${id}`,
        );
      }
      assertRefused(
        await runCli(["tunnel", "update", "--id", "..", "--endpoint", "8080"], { home, env }),
        "update .. --endpoint",
      );
    });
    await t.step("tunnel listen --id", async () => {
      for (const id of ["%2e", ".", "a/b"]) {
        assertRefused(
          await runCli(["tunnel", "listen", "--id", id, "-o", "json"], { home, env }),
          `listen ${id}`,
        );
      }
    });

    const tunnelRequests = relay.paths.slice(sent).filter((p) => TUNNEL_PATHS.test(p));
    assert.deepEqual(tunnelRequests, [], "no tunnel request was sent");
    assert.deepEqual(await names(PROXIES), ["web"], "nothing was deleted");
    assert.deepEqual(await names(CONNECTORS), connectorsBefore, "no Connector was created");
  } finally {
    await relay.close();
    await stack.stop();
  }
});

Deno.test("ids and Connector names from the server pass the same rule", async () => {
  const stack = await startStack({ autoApprove: EMAIL });
  try {
    const api = await projectApi(stack, EMAIL, "infra");
    const service = new TunnelService({
      client: api,
      projectId: "infra",
      endpointId: "a".repeat(64),
      repo: await Deno.makeTempDir({ prefix: "datumctl-repo-" }),
    });
    for (const id of ["", ".", "..", "a/b", "%2e"]) {
      await assert.rejects(() => service.get(id), /is not a valid tunnel id/, `get ${id}`);
      await assert.rejects(() => service.getProxy(id), /is not a valid tunnel id/, `proxy ${id}`);
      await assert.rejects(
        () => service.setEnabled(id, false),
        /is not a valid tunnel id/,
        `disable ${id}`,
      );
      await assert.rejects(
        () => service.getConnector(id),
        /is not a valid Connector name/,
        `connector ${id}`,
      );
    }
  } finally {
    await stack.stop();
  }
});
