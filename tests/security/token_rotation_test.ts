/**
 * A token rotation is never lost. The local provider rotates refresh tokens and revokes the
 * whole login when a spent one comes back, so a CLI that is stopped after the provider answered
 * a refresh but before the new token was stored logs the user out for good. Here every run
 * refreshes (1 s access tokens) and is interrupted at random moments, most of them while its
 * refresh is on the wire; afterwards the login still works and no temp file (which would hold
 * tokens) is left. A write that only a harder kill could interrupt is finished by the next run.
 */
import assert from "node:assert/strict";
import { cliCommand, isolatedEnv, makeHome, runCli } from "../support/cli.ts";
import { type LocalStack, startStack } from "../support/stack.ts";
import { hostPort, loginFlags, readCredentialsFile } from "../support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const EMAIL = "alice@example.com";
const ROUNDS = 48;

function credentialsKey(stack: LocalStack): string {
  return `${EMAIL}@${hostPort(stack.issuer)}`;
}

async function storedToken(home: string, stack: LocalStack) {
  const file = await readCredentialsFile(home);
  const raw = file["datumctl-auth"]?.[credentialsKey(stack)];
  assert.ok(raw, "the login is stored");
  return JSON.parse(raw) as {
    endpoint_token_url: string;
    token: { access_token: string; refresh_token: string; expiry: string; expires_in: number };
  };
}

/** Waits until the stored token is due for a refresh, so the next run refreshes it. */
async function untilRefreshDue(home: string, stack: LocalStack): Promise<void> {
  const { token } = await storedToken(home, stack);
  const due = Date.parse(token.expiry) - (token.expires_in * 1000) / 2;
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now() + 30)));
}

async function leftoverTemps(home: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${home}/.datumctl`)) {
    if (entry.name.includes(".tmp-")) names.push(entry.name);
  }
  return names;
}

async function loggedIn(stack: LocalStack): Promise<string> {
  const home = await makeHome();
  const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], { home, env: FILE });
  assert.equal(res.code, 0, res.stderr);
  return home;
}

/**
 * A relay in front of the provider's token endpoint that tells the test when a refresh request
 * arrives, so kills can be aimed at the refresh itself rather than anywhere in the run.
 */
function startTokenRelay(stack: LocalStack) {
  let arrived: (() => void) | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    arrived?.();
    const url = new URL(req.url);
    const answer = await fetch(`${stack.issuer}${url.pathname}`, {
      method: req.method,
      headers: req.headers,
      body: await req.arrayBuffer(),
    });
    return new Response(await answer.arrayBuffer(), {
      status: answer.status,
      headers: answer.headers,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    /** Resolves when the next request reaches the relay. */
    nextRequest(): Promise<void> {
      return new Promise((resolve) => (arrived = resolve));
    },
    close: () => server.shutdown(),
  };
}

Deno.test("interrupting refreshes at random moments never loses the login nor leaves a temp file", async () => {
  const stack = await startStack({ autoApprove: EMAIL, accessTokenTtlSeconds: 1 });
  const relay = startTokenRelay(stack);
  try {
    const home = await loggedIn(stack);
    // Route this login's refreshes through the relay (nothing else runs at this point).
    const path = `${home}/.datumctl/credentials.json`;
    const file = await readCredentialsFile(home);
    const creds = JSON.parse(file["datumctl-auth"][credentialsKey(stack)]);
    creds.endpoint_token_url = `${relay.url}${new URL(creds.endpoint_token_url).pathname}`;
    file["datumctl-auth"][credentialsKey(stack)] = JSON.stringify(creds);
    await Deno.writeTextFile(path, JSON.stringify(file, null, 2));

    const [cmd, ...args] = cliCommand();
    const durations: number[] = [];
    const outcomes = { beforeRefresh: 0, duringRefresh: 0, finished: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      await untilRefreshDue(home, stack);
      const signal: Deno.Signal = round % 2 === 0 ? "SIGINT" : "SIGTERM";
      const requested = relay.nextRequest();
      const started = Date.now();
      const child = new Deno.Command(cmd, {
        args: [...args, "auth", "get-token"],
        env: isolatedEnv(home, FILE),
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      let refreshSeen = false;
      requested.then(() => (refreshSeen = true));
      // Two rounds in three aim at the refresh (0–20 ms after the request left), the rest at
      // any moment of a typical run.
      if (round % 3 !== 2 || durations.length === 0) {
        await Promise.race([requested, child.status]);
        await new Promise((r) => setTimeout(r, Math.random() * 20));
      } else {
        const typical = durations.toSorted((a, b) => a - b)[Math.floor(durations.length / 2)];
        await new Promise((r) => setTimeout(r, Math.random() * typical));
      }
      try {
        child.kill(signal);
      } catch { /* it already finished */ }
      const status = await child.status;
      if (status.success) {
        outcomes.finished++;
        durations.push(Date.now() - started);
      } else if (refreshSeen) outcomes.duringRefresh++;
      else outcomes.beforeRefresh++;
      assert.deepEqual(
        await leftoverTemps(home),
        [],
        `round ${round} (${signal}) left a temp file with tokens`,
      );
    }
    assert.ok(outcomes.duringRefresh >= ROUNDS / 4, `kills landed: ${JSON.stringify(outcomes)}`);

    // The login survived every interruption: the next refresh spends a live refresh token.
    await untilRefreshDue(home, stack);
    const before = await storedToken(home, stack);
    const res = await runCli(["auth", "get-token"], { home, env: FILE });
    assert.equal(res.code, 0, `login lost after ${JSON.stringify(outcomes)}:\n${res.stderr}`);
    const after = await storedToken(home, stack);
    assert.notEqual(after.token.refresh_token, before.token.refresh_token, "it refreshed");
    assert.equal(res.stdout, after.token.access_token);
  } finally {
    await relay.close();
    await stack.stop();
  }
});

/** Refreshes the stored login of `home` directly, as a CLI killed mid-write would have. */
async function refreshBehindTheCliBack(home: string, stack: LocalStack) {
  const creds = await storedToken(home, stack);
  const res = await fetch(creds.endpoint_token_url, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: creds.token.refresh_token,
      client_id: stack.clientId,
    }),
  });
  const answer = await res.json();
  assert.equal(res.status, 200, JSON.stringify(answer));
  const file = await readCredentialsFile(home);
  const next = {
    ...creds,
    token: {
      ...creds.token,
      access_token: answer.access_token,
      refresh_token: answer.refresh_token,
      expiry: new Date(Date.now() - 1000).toISOString(),
    },
  };
  file["datumctl-auth"][credentialsKey(stack)] = JSON.stringify(next);
  return { store: JSON.stringify(file, null, 2), refreshToken: answer.refresh_token as string };
}

Deno.test("a temp file a killed writer left is recovered when newer, removed otherwise", async (t) => {
  const stack = await startStack({ autoApprove: EMAIL, accessTokenTtlSeconds: 1 });
  try {
    await t.step("newer and whole: the next run uses the rotated token in it", async () => {
      const home = await loggedIn(stack);
      await untilRefreshDue(home, stack);
      // The provider has rotated; the new token only reached a temp file (a SIGKILL or a
      // power cut between writing it and renaming it).
      const { store, refreshToken } = await refreshBehindTheCliBack(home, stack);
      const leftover = `${home}/.datumctl/credentials.json.tmp-424242-deadbeef`;
      await Deno.writeTextFile(leftover, store, { mode: 0o600 });
      const res = await runCli(["auth", "get-token"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(await leftoverTemps(home), []);
      const after = await storedToken(home, stack);
      assert.notEqual(after.token.refresh_token, refreshToken, "it refreshed with the rescued one");
      assert.equal(res.stdout, after.token.access_token);
    });

    await t.step("torn or older than the real file: removed, the real file stays", async () => {
      const home = await loggedIn(stack);
      const dir = `${home}/.datumctl`;
      const before = await Deno.readTextFile(`${dir}/credentials.json`);
      await Deno.writeTextFile(`${dir}/credentials.json.tmp-1-torn0000`, before.slice(0, 50));
      await Deno.writeTextFile(`${dir}/credentials.json.tmp-2-old00000`, before);
      const past = new Date(Date.now() - 3600_000);
      await Deno.utime(`${dir}/credentials.json.tmp-2-old00000`, past, past);
      await untilRefreshDue(home, stack);
      const res = await runCli(["auth", "get-token"], { home, env: FILE });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(await leftoverTemps(home), []);
    });
  } finally {
    await stack.stop();
  }
});
