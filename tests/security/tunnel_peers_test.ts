/**
 * Who is on the other end of the tunnel. By default the agent serves any iroh peer that knows
 * its endpoint id, and every `request` event names that peer. With `--allow-peer` (or
 * `DATUMCTL_TUNNEL_ALLOWED_PEERS`) only the listed peers are served: a second gateway with a
 * fresh key, routed straight to the agent, gets nothing through while the local stack's gateway
 * (its stable identity, from the stack's ready line) is served; without the flag the same
 * stranger is served.
 */
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { type LocalStack, startStack } from "../support/stack.ts";
import {
  type Listener,
  loginHome,
  type Origin,
  projectApi,
  publicGet,
  startListener,
  startOrigin,
  tunnelEnv,
} from "../support/tunnel.ts";
import { startGateway } from "../../lib/tunnel/engine.ts";
import { requestViaGateway } from "../../local/gateway.ts";

const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";

type Connector = {
  status?: {
    connectionDetails?: {
      publicKey?: { id: string; addresses?: { address: string; port: number }[] };
    };
  };
};

/** Sends one request to the listener's agent through a gateway of our own with a fresh key. */
async function viaStranger(
  stack: LocalStack,
  ready: Record<string, string>,
  origin: Origin,
): Promise<{ status: number; peer: string }> {
  const api = await projectApi(stack, "alice@example.com", "infra");
  const list = await api.list<Connector>(CONNECTORS);
  const key = list.items.map((c) => c.status?.connectionDetails?.publicKey)
    .find((k) => k?.id === ready.endpoint_id);
  assert.ok(key, "the agent's Connector publishes its key");
  const stranger = await startGateway({});
  try {
    stranger.setRoutes([{
      hostname: "stranger.test",
      endpointId: key.id,
      directAddresses: (key.addresses ?? []).map((a) =>
        a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
      ),
      targetHost: "localhost",
      targetPort: origin.port,
      online: true,
    }]);
    const answer = await requestViaGateway(stranger.url, "stranger.test", "/", {
      timeoutMs: 20_000,
    }).catch(() => ({ status: 0 }));
    return { status: answer.status, peer: stranger.endpointId };
  } finally {
    await stranger.close();
  }
}

Deno.test("--allow-peer refuses every other iroh peer at the connection", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  let listener: Listener | undefined;
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    assert.match(stack.gatewayEndpointId ?? "", /^[0-9a-f]{64}$/, "the ready line names it");
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);

    await t.step("the local gateway's identity is stable across runs", async () => {
      const again = await startStack({});
      try {
        assert.equal(again.gatewayEndpointId, stack.gatewayEndpointId);
      } finally {
        await again.stop();
      }
    });

    await t.step("a malformed peer id is a usage error", async () => {
      const res = await runCli(["tunnel", "listen", String(origin.port)], {
        home,
        env: { ...env, DATUMCTL_TUNNEL_ALLOWED_PEERS: "abc" },
      });
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /invalid peer id "abc"/);
    });

    await t.step("with --allow-peer the edge is served and a fresh key is refused", async () => {
      listener = startListener(home, [
        String(origin.port),
        "--allow-peer",
        stack.gatewayEndpointId!,
        "-o",
        "json",
      ], env);
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      const served = await publicGet(stack.gateway!, ready.hostnames[0], "/mine");
      assert.equal(served.status, 200);
      const request = await listener.waitForEvent((e) =>
        e.type === "request" && e.path === "/mine"
      );
      assert.equal(request.peer, stack.gatewayEndpointId);

      const seen = origin.requests;
      const stranger = await viaStranger(stack, ready, origin);
      assert.notEqual(stranger.status, 200, "the stranger got nothing through");
      assert.equal(origin.requests, seen, "the origin never saw the stranger");
      const refused = await listener.waitForEvent((e) =>
        e.type === "warning" && e.code === "peer_refused"
      );
      assert.match(refused.message, new RegExp(stranger.peer));
      const stats = await listener.waitForEvent((e) =>
        e.type === "stats" &&
        (e.denied_by_peer ?? []).some((d: Record<string, unknown>) =>
          d.peer === stranger.peer && d.connections_refused as number >= 1
        )
      );
      assert.ok(stats);
      assert.ok(
        !listener.events.some((e) => e.type === "request" && e.peer === stranger.peer),
        "no request of the refused peer was read",
      );
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
      listener = undefined;
    });

    await t.step("without --allow-peer the same stranger is served, and named", async () => {
      listener = startListener(home, [String(origin.port), "-o", "json"], env);
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      const stranger = await viaStranger(stack, ready, origin);
      assert.equal(stranger.status, 200);
      const request = await listener.waitForEvent((e) =>
        e.type === "request" && e.peer === stranger.peer
      );
      assert.equal(request.status, 200);
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
      listener = undefined;
    });
  } finally {
    listener?.signal("SIGKILL");
    await origin.close();
    await stack.stop();
  }
});
