import assert from "node:assert/strict";
import { KeyFileTokens } from "../auth/session-tokens.ts";
import type { StoredCredentials } from "../store/credentials.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { TokenKeeper } from "./token-keeper.ts";

function credentials(n: number, lifetimeSeconds: number): StoredCredentials {
  return {
    hostname: "h",
    api_hostname: "a",
    client_id: "c",
    endpoint_auth_url: "",
    endpoint_token_url: "http://127.0.0.1:1/token",
    scopes: [],
    user_name: "",
    user_email: "",
    subject: "",
    token: {
      access_token: `t${n}`,
      expiry: new Date(Date.now() + lifetimeSeconds * 1000).toISOString(),
      expires_in: lifetimeSeconds,
    },
  };
}

const unavailable = () =>
  new CliError("TOKEN_ENDPOINT_FAILED", "503", {
    exitCode: ExitCode.unavailable,
    retryable: true,
  });

Deno.test("the keeper refreshes on a timer, before anyone asks for a token", async () => {
  let renewals = 0;
  const tokens = new KeyFileTokens(
    () => Promise.resolve(credentials(0, 2)),
    () => Promise.resolve(credentials(++renewals, 2)),
  );
  const keeper = new TokenKeeper({ tokens, onLost: (e) => assert.fail(String(e)) });
  keeper.start();
  try {
    const until = Date.now() + 10_000;
    while (renewals < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(renewals >= 2, `renewed ${renewals} times`);
  } finally {
    await keeper.stop();
  }
});

Deno.test("a refresh failure that may pass is retried 1 s, 2 s … apart, then recovers", async () => {
  let attempts = 0;
  const tokens = new KeyFileTokens(
    () => Promise.resolve(credentials(0, 1)),
    () => {
      attempts++;
      return attempts <= 2
        ? Promise.reject(unavailable())
        : Promise.resolve(credentials(attempts, 3600));
    },
  );
  const delays: number[] = [];
  let recovered = false;
  const keeper = new TokenKeeper({
    tokens,
    onLost: (e) => assert.fail(String(e)),
    onRetry: (_e, ms) => delays.push(ms),
    onRecovered: () => (recovered = true),
  });
  keeper.start();
  try {
    const until = Date.now() + 15_000;
    while (!recovered && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(delays, [1_000, 2_000]);
    assert.ok(recovered);
    assert.equal(await tokens.accessToken(), "t3");
  } finally {
    await keeper.stop();
  }
});

Deno.test("a permanent refusal is reported once and ends the keeper", async () => {
  const lost: unknown[] = [];
  const tokens = new KeyFileTokens(
    () => Promise.resolve(credentials(0, 1)),
    () =>
      Promise.reject(
        new CliError("SESSION_EXPIRED", "session expired", { exitCode: ExitCode.noPermission }),
      ),
  );
  const keeper = new TokenKeeper({ tokens, onLost: (e) => lost.push(e) });
  keeper.start();
  const until = Date.now() + 5_000;
  while (lost.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await keeper.stop();
  assert.equal(lost.length, 1);
  assert.equal((lost[0] as CliError).code, "SESSION_EXPIRED");
});

Deno.test("a token that cannot be refreshed (DATUM_TOKEN) is left alone", async () => {
  const keeper = new TokenKeeper({
    tokens: { accessToken: () => Promise.resolve("x"), expiry: () => Promise.resolve(undefined) },
    onLost: (e) => assert.fail(String(e)),
  });
  keeper.start();
  keeper.nudge();
  await keeper.stop();
});
