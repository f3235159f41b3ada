/**
 * The state a named tunnel shows (`status.json`, `tunnel ps`, `tunnel status`) follows what the
 * heartbeat and the public-URL check see: during a burst of 503s from the API the Lease lapses
 * and the edge answers `503 Tunnel not online`, and the state must say `degraded` (not `ready`)
 * until the Lease is renewed and the public URL answers through the tunnel again.
 */
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import {
  loginHome,
  startListener,
  startOrigin,
  tunnelEnv,
  waitForPublic,
} from "../support/tunnel.ts";

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const hit = await probe();
    if (hit !== undefined) return hit;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("status.json follows the heartbeat and the public URL through an API 503 burst", async () => {
  // A short Lease, so a burst of a few seconds makes it lapse.
  const stack = await startStack({ autoApprove: "alice@example.com", leaseDurationSeconds: 4 });
  const origin = startOrigin();
  const home = await loginHome(stack, "alice@example.com");
  const env = tunnelEnv(stack);
  const statusFile = `${home}/.local/share/datumctl/connect/web/status.json`;
  const state = async () => {
    const text = await Deno.readTextFile(statusFile).catch(() => undefined);
    return text ? JSON.parse(text) as { state: string; degraded_reason?: string } : undefined;
  };
  const listener = startListener(home, [String(origin.port), "--name", "web", "-o", "json"], env);
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const ready = await listener.waitForEvent((e) => e.type === "ready");
    const hostname = ready.hostnames[0];
    await until(async () => (await state())?.state === "ready" || undefined, 10_000, "ready");

    await stack.setFault("api-503", 100_000);
    const down = await waitForPublic(stack.gateway, hostname, (a) => a.status === 503, 30_000);
    assert.equal(down.status, 503);
    const degraded = await until(
      async () => {
        const s = await state();
        return s?.state === "degraded" ? s : undefined;
      },
      20_000,
      "status.json to say degraded while the public URL answers 503",
    );
    assert.match(degraded.degraded_reason ?? "", /public URL|Lease/);
    const ps = await runCli(["tunnel", "ps", "-o", "json"], { home, env });
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(JSON.parse(ps.stdout)[0].state, "degraded", "tunnel ps shows it too");
    const status = await runCli(["tunnel", "status", "--name", "web"], { home, env });
    assert.match(status.stdout, /State:\s+degraded/);
    assert.ok(listener.events.some((e) => e.type === "warning" && e.code === "tunnel_degraded"));

    await stack.setFault("api-503", 0);
    await waitForPublic(stack.gateway, hostname, (a) => a.status === 200, 90_000);
    await until(
      async () => (await state())?.state === "ready" || undefined,
      30_000,
      "status.json to say ready again",
    );
    assert.ok(listener.events.some((e) => e.type === "warning" && e.code === "tunnel_recovered"));

    listener.signal("SIGINT");
    assert.equal(await listener.exited(), 0, listener.stderr());
  } finally {
    listener.signal("SIGKILL");
    await origin.close();
    await stack.stop();
  }
});
