/**
 * `tunnel listen` under every fault switch of the local stack: a 503 burst during
 * setup is ridden out, a quota-check timeout is retried with the exact notice, a deleted Lease is
 * recovered by the heartbeat, an iroh DNS owner flip stops the tunnel with the framed message and
 * exit 78 (and a shared key fails at setup at once), a revoked refresh token stops it with the
 * login-expired message and exit 77, and `--timeout` with the origin down exits 75 with a
 * per-side summary.
 */
import assert from "node:assert/strict";
import { NO_HOME_RELAY } from "../lib/tunnel/details.ts";
import { runCli } from "./support/cli.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import {
  loginHome,
  projectApi,
  startListener,
  startOrigin,
  tunnelEnv,
  waitForPublic,
} from "./support/tunnel.ts";

const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";
const LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases";

async function faults(stack: LocalStack): Promise<Record<string, unknown>> {
  return await (await fetch(`${stack.api}/_local/faults`)).json();
}

function gatewayOf(stack: LocalStack): string {
  assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
  return stack.gateway;
}

Deno.test("tunnel listen under the local stack's fault switches", async (t) => {
  // Short leases make the heartbeat renew every ~3 s; short tokens make the CLI refresh often.
  const stack = await startStack({
    autoApprove: "alice@example.com",
    leaseDurationSeconds: 6,
    accessTokenTtlSeconds: 20,
  });
  const origin = startOrigin();
  try {
    const gateway = gatewayOf(stack);
    const env = tunnelEnv(stack);

    await t.step("a 503 burst from the API front end during setup is tolerated", async () => {
      const home = await loginHome(stack, "alice@example.com", "web-app");
      const listener = startListener(home, [String(origin.port), "-o", "json"], env);
      await listener.waitForEvent((e) => e.type === "tunnel");
      await stack.setFault("api-503", 12);
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      assert.equal((await faults(stack))["api-503"], 0, "the whole burst hit the listener");
      assert.equal(
        (await waitForPublic(gateway, ready.hostnames[0], (a) => a.status === 200)).status,
        200,
      );
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
    });

    await t.step("a quota-check timeout on create is retried with the notice", async () => {
      const home = await loginHome(stack, "alice@example.com", "billing-api");
      await stack.setFault("quota-timeout", 2);
      const listener = startListener(home, [String(origin.port)], env);
      await listener.waitForStderr(/Press Ctrl\+C to stop/);
      const err = listener.stderr();
      // The first create of a fresh machine is its Connector.
      assert.match(err, /^… quota check timed out for create Connector; retrying for up to 15s$/m);
      assert.equal(err.match(/quota check timed out/g)?.length, 1, "the notice is printed once");
      assert.equal((await faults(stack))["quota-timeout"], 0);
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0);
    });

    const home = await loginHome(stack, "alice@example.com", "infra");
    const api = await projectApi(stack, "alice@example.com", "infra");

    await t.step(
      "a deleted Lease: the heartbeat re-resolves it and the tunnel serves again",
      async () => {
        const listener = startListener(home, [String(origin.port), "-o", "json"], env);
        const ready = await listener.waitForEvent((e) => e.type === "ready");
        const hostname = ready.hostnames[0];
        const step = listener.events.find((e) => e.type === "step" && e.step === "connector_ready");
        const connector = String(step?.resource).replace("Connector/", "");
        const deletedAt = Date.now();
        await stack.setFault("delete-lease", {
          project: "infra",
          name: connector,
          recreateAfterMs: 4000,
        });
        // Without its Lease the Connector is not Ready: the edge answers 503...
        await waitForPublic(gateway, hostname, (a) => a.status === 503, 20_000);
        // ...until the heartbeat finds the recreated Lease and renews it.
        await waitForPublic(gateway, hostname, (a) => a.status === 200, 40_000);
        const lease = await api.get<{ spec: { renewTime: string } }>(`${LEASES}/${connector}`);
        assert.ok(Date.parse(lease.spec.renewTime) > deletedAt, "renewed after the deletion");
        assert.ok(!listener.events.some((e) => e.type === "stopped"), "the listener kept running");
        listener.signal("SIGINT");
        assert.equal(await listener.exited(), 0);
      },
    );

    let keyId = "";
    await t.step(
      "an iroh DNS owner flip stops the tunnel with the framed message, exit 78",
      async () => {
        const listener = startListener(home, [String(origin.port)], env);
        await listener.waitForStderr(/Press Ctrl\+C to stop/);
        keyId = /Your endpoint ID: ([0-9a-f]{64})/.exec(listener.stderr())![1];
        // Another Connector (in another project) claims the same public key, then wins the record.
        const rival = await projectApi(stack, "alice@example.com", "sandbox");
        const other = await rival.create<{ metadata: { name: string } }>(CONNECTORS, {
          apiVersion: "networking.datumapis.com/v1alpha1",
          kind: "Connector",
          metadata: { generateName: "datum-connect-" },
          spec: { connectorClassName: "datum-connect" },
        });
        await rival.patchMerge(`${CONNECTORS}/${other.metadata.name}/status`, {
          status: {
            connectionDetails: {
              type: "PublicKey",
              // homeRelay is required by Datum's schema: the placeholder of a relay-less agent.
              publicKey: {
                id: keyId,
                discoveryMode: "DNS",
                homeRelay: NO_HOME_RELAY,
                addresses: [],
              },
            },
          },
        });
        await stack.setFault("iroh-owner-flip", { project: "sandbox", name: other.metadata.name });
        const code = await listener.exited(40_000);
        assert.equal(code, 78, listener.stderr());
        const err = listener.stderr();
        const rule = "=".repeat(72);
        assert.match(err, new RegExp(`${rule}\\nTunnel failed at step: iroh DNS published`));
        assert.match(err, /reason: {2}DeferredToOwner/);
        assert.match(err, new RegExp(`owned by Connector sandbox/default/${other.metadata.name}`));
        assert.match(err, /projects\/infra\/listen_key/);
        assert.match(err, /Disabling tunnel\.\.\.\nTunnel disabled\./);
        assert.match(err, /error: iroh DNS for this machine's tunnel key is owned by Connector/);
      },
    );

    await t.step(
      "with the key still owned elsewhere, setup fails at once naming the key",
      async () => {
        const res = await runCli(["tunnel", "listen", String(origin.port)], { home, env });
        assert.equal(res.code, 78, res.stderr);
        assert.match(res.stderr, /DeferredToOwner/);
        assert.match(
          res.stderr,
          /Delete .*projects\/infra\/listen_key to start with a fresh identity/,
        );
        assert.doesNotMatch(res.stderr, /Verifying connectivity/);
      },
    );

    await t.step("a revoked refresh token stops the tunnel: login expired, exit 77", async () => {
      const fresh = await loginHome(stack, "alice@example.com", "web-app");
      const listener = startListener(fresh, [String(origin.port), "-o", "json"], env);
      await listener.waitForEvent((e) => e.type === "ready");
      await stack.setFault("revoked-refresh-tokens", true);
      try {
        const code = await listener.exited(60_000);
        assert.equal(code, 77, listener.stderr());
      } finally {
        await stack.setFault("revoked-refresh-tokens", false);
      }
      const stopped = listener.events.at(-1)!;
      assert.deepEqual([stopped.type, stopped.reason, stopped.exit_code], [
        "stopped",
        "login_lost",
        77,
      ]);
      assert.match(listener.stderr(), /error: Datum login has expired or been revoked/);
      assert.match(listener.stderr(), /datumctl login/);
    });

    await t.step("--timeout with the origin down exits 75 with a per-side summary", async () => {
      const fresh = await loginHome(stack, "alice@example.com", "web-app");
      const closed = startOrigin();
      const port = closed.port;
      await closed.close();
      const res = await runCli(["tunnel", "listen", String(port), "--timeout", "4s"], {
        home: fresh,
        env,
      });
      assert.equal(res.code, 75, res.stderr);
      assert.match(res.stderr, new RegExp(`origin http://localhost:${port}: not reachable`));
      assert.match(res.stderr, /public URL https:\/\/[^ ]+\/: not reachable/);
      assert.match(res.stderr, /Tunnel disabled\./);
      assert.equal(res.stdout, "", "no ready line for an unverified tunnel");
    });
  } finally {
    await origin.close();
    await stack.stop();
  }
});
