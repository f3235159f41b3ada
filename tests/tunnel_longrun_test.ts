/**
 * Tunnels that run for months, compressed: access tokens live 4 s and
 * Leases 6 s, so every lifetime the real service measures in hours passes in seconds.
 *
 * A service-account login (JWT-bearer grant) keeps one tunnel serving across several token
 * lifetimes; the same listener, stopped with SIGSTOP past its Lease (as a sleeping laptop would
 * be), re-enables itself when continued; a token-endpoint 503 burst is retried while it keeps
 * serving. An interactive login whose refresh token is revoked mid-run stops with exit 77.
 */
import assert from "node:assert/strict";
import { type LocalStack, startStack } from "./support/stack.ts";
import { storedCredentials } from "./support/auth.ts";
import {
  loginHome,
  projectApi,
  publicGet,
  serviceAccountHome,
  startListener,
  startOrigin,
  tunnelEnv,
  waitForPublic,
} from "./support/tunnel.ts";

const SA_EMAIL = "ci-deployer@acme-corp.iam.datumapis.com";
const ADVERTISEMENTS =
  "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectoradvertisements";
const TOKEN_TTL_SECONDS = 4;
/** Short, but with room for a busy machine between renewals (every 3-4 s). */
const LEASE_SECONDS = 6;

async function faults(stack: LocalStack): Promise<Record<string, unknown>> {
  return await (await fetch(`${stack.api}/_local/faults`)).json();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a tunnel outlives its tokens, its Lease and a sleeping host", async (t) => {
  const stack = await startStack({
    autoApprove: "alice@example.com",
    accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
    leaseDurationSeconds: LEASE_SECONDS,
  });
  const origin = startOrigin();
  const children: { signal(sig: Deno.Signal): void }[] = [];
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const env = tunnelEnv(stack);

    // A service-account login, as on a headless server.
    const home = await serviceAccountHome(stack);
    const storedToken = async () => (await storedCredentials(home, stack, SA_EMAIL)).token;

    const listener = startListener(home, [String(origin.port), "-o", "json"], env);
    children.push(listener);
    let hostname = "";
    let tunnelId = "";

    await t.step("a service-account login serves across several token lifetimes", async () => {
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      hostname = ready.hostnames[0];
      tunnelId = ready.id;
      const tokens = new Set<string>();
      const answers: number[] = [];
      const until = Date.now() + 3.5 * TOKEN_TTL_SECONDS * 1000;
      while (Date.now() < until) {
        tokens.add(String((await storedToken()).access_token));
        answers.push((await publicGet(gateway, hostname)).status);
        await sleep(400);
      }
      // Each stored token was minted by the provider's JWT-bearer grant for this listener.
      assert.ok(tokens.size >= 3, `only ${tokens.size} tokens over 3.5 lifetimes`);
      assert.deepEqual(
        answers.filter((s) => s !== 200),
        [],
        "the public URL answered 200 every time",
      );
      assert.ok(!listener.events.some((e) => e.type === "stopped"), "still running");
    });

    await t.step("stopped past its Lease (host asleep), it re-enables itself on wake", async () => {
      // Tokens live 4 s here: a client for each use.
      const api = () => projectApi(stack, "alice@example.com", "infra");
      const seen = listener.events.length;
      const stoppedAt = Date.now();
      listener.signal("SIGSTOP");
      try {
        // The Lease lapses: the Connector goes not-Ready and the edge answers 503.
        await waitForPublic(gateway, hostname, (a) => a.status === 503, 20_000);
        // And the advertisement disappears while we sleep (re-created on wake).
        await (await api()).delete(`${ADVERTISEMENTS}/${tunnelId}`);
        // Asleep well past the Lease, however early the lapse showed.
        await sleep(Math.max(0, stoppedAt + (LEASE_SECONDS + 3) * 1000 - Date.now()));
      } finally {
        listener.signal("SIGCONT");
      }
      const woke = await listener.waitForEvent(
        (e) => listener.events.indexOf(e) >= seen && e.code === "woke_up",
        20_000,
      );
      assert.match(
        woke.message,
        new RegExp(`suspended for about \\d+s .*longer than its ${LEASE_SECONDS}s Lease`),
      );
      const back = await listener.waitForEvent(
        (e) => listener.events.indexOf(e) >= seen && e.code === "reenabled",
        30_000,
      );
      assert.match(
        back.message,
        new RegExp(`tunnel ${tunnelId} re-enabled.*advertisement re-created`),
      );
      const answer = await waitForPublic(gateway, hostname, (a) => a.status === 200, 30_000);
      assert.match(answer.body, /hello from origin/);
      await (await api()).get(`${ADVERTISEMENTS}/${tunnelId}`);
      assert.ok(!listener.events.some((e) => e.type === "stopped"), "it never exited");
    });

    await t.step("a token-endpoint 503 burst is retried while the tunnel serves", async () => {
      const seen = listener.events.length;
      await stack.setFault("token-503", 3);
      const retry = await listener.waitForEvent(
        (e) => listener.events.indexOf(e) >= seen && e.code === "token_refresh_retry",
        20_000,
      );
      assert.match(retry.message, /retrying in \d+s/);
      const until = Date.now() + 30_000;
      while ((await faults(stack))["token-503"] !== 0 && Date.now() < until) await sleep(250);
      assert.equal((await faults(stack))["token-503"], 0, "the whole burst was spent");
      const before = String((await storedToken()).access_token);
      await waitForPublic(gateway, hostname, (a) => a.status === 200, 30_000);
      // Refreshing resumed after the burst.
      const refreshedUntil = Date.now() + 4 * TOKEN_TTL_SECONDS * 1000;
      while (String((await storedToken()).access_token) === before) {
        assert.ok(Date.now() < refreshedUntil, "no new token after the burst");
        await sleep(250);
      }
      assert.ok(!listener.events.some((e) => e.type === "stopped"), "it never exited");
    });

    listener.signal("SIGINT");
    assert.equal(await listener.exited(), 0, listener.stderr());

    await t.step("an interactive login revoked mid-run stops the tunnel with exit 77", async () => {
      const fresh = await loginHome(stack, "alice@example.com", "web-app");
      const interactive = startListener(fresh, [String(origin.port), "-o", "json"], env);
      children.push(interactive);
      await interactive.waitForEvent((e) => e.type === "ready");
      await stack.setFault("revoked-refresh-tokens", true);
      try {
        assert.equal(await interactive.exited(30_000), 77, interactive.stderr());
      } finally {
        await stack.setFault("revoked-refresh-tokens", false);
      }
      const events = interactive.events;
      const last = events.at(-1)!;
      assert.deepEqual([last.type, last.reason, last.exit_code], ["stopped", "login_lost", 77]);
      const error = events.findLast((e) => e.type === "error")!;
      assert.deepEqual([error.code, error.exit_code, error.retryable], ["LOGIN_LOST", 77, false]);
      assert.ok(events.indexOf(error) > events.findIndex((e) => e.type === "ready"));
      assert.match(error.message, /session expired for alice@example\.com/);
      assert.match(error.hint, /datumctl login --endpoint http/);
      assert.match(interactive.stderr(), /error: Datum login has expired or been revoked/);
    });
  } finally {
    for (const child of children) {
      child.signal("SIGCONT");
      child.signal("SIGKILL");
    }
    await origin.close();
    await stack.stop();
  }
});
