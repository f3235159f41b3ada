/**
 * A signal held back during a credentials write reaches a command's own handler once. Writes of
 * secrets (a rotated refresh token) hold SIGINT/SIGTERM until they are done; a command that
 * handles signals itself registers its handler (lib/process/signals.ts) and gets the held signal
 * once, afterwards, instead of once at the time and once more when it was raised again. For
 * `tunnel listen` a second signal means "skip the clean-up", so one Ctrl-C during a token
 * refresh used to leave the tunnel enabled; now it ends the tunnel cleanly, disabled.
 */
import assert from "node:assert/strict";
import { readCredentialsFile } from "../support/auth.ts";
import { type LocalStack, startStack } from "../support/stack.ts";
import { loginHome, projectApi, startListener, startOrigin, tunnelEnv } from "../support/tunnel.ts";
import { hostPort } from "../support/auth.ts";

const EMAIL = "alice@example.com";
const ADS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectoradvertisements";
const PROBE = new URL("../support/signal-probe.ts", import.meta.url).pathname;

async function probe(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", PROBE, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ...out, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("a held signal goes once to the registered handler, after the write", async () => {
  for (const times of ["1", "3"]) {
    const res = await probe(["handler", times]);
    assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
    assert.equal(res.text, "held 0\nafter 1\nagain 2\n", `${times} signal(s) during the hold`);
  }
});

Deno.test("without a handler the held signal ends the process once the write is done", async () => {
  const res = await probe(["none"]);
  assert.equal(res.signal, "SIGINT", `exit ${res.code}: ${res.text}`);
  assert.equal(res.text, "held 0\n");
});

/**
 * A relay in front of the provider's token endpoint that can hold one refresh: `holdNext()`
 * resolves `arrived` when the next token request comes in and forwards it on `release()`.
 */
function startTokenRelay(stack: LocalStack) {
  let hold: { arrived: () => void; released: Promise<void> } | undefined;
  const releaseAll: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const held = hold;
    hold = undefined;
    if (held) {
      held.arrived();
      await held.released;
    }
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
    holdNext() {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      releaseAll.push(release);
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no token refresh within 30 s")), 30_000);
        hold = {
          arrived: () => {
            clearTimeout(timer);
            resolve();
          },
          released,
        };
      });
      return { arrived, release };
    },
    close: async () => {
      for (const release of releaseAll) release();
      await server.shutdown();
    },
  };
}

Deno.test("one Ctrl-C during a held token refresh ends tunnel listen cleanly, disabled", async () => {
  const stack = await startStack({ autoApprove: EMAIL, accessTokenTtlSeconds: 6 });
  const relay = startTokenRelay(stack);
  const origin = startOrigin();
  try {
    const home = await loginHome(stack, EMAIL);
    // Route this login's refreshes through the relay.
    const key = `${EMAIL}@${hostPort(stack.issuer)}`;
    const file = await readCredentialsFile(home);
    const creds = JSON.parse(file["datumctl-auth"][key]);
    creds.endpoint_token_url = `${relay.url}${new URL(creds.endpoint_token_url).pathname}`;
    file["datumctl-auth"][key] = JSON.stringify(creds);
    await Deno.writeTextFile(`${home}/.datumctl/credentials.json`, JSON.stringify(file, null, 2));

    const listener = startListener(home, [String(origin.port), "-o", "json"], tunnelEnv(stack));
    const ready = await listener.waitForEvent((e) => e.type === "ready", 120_000);

    // The token keeper's next refresh is held at the relay: its write holds signals back.
    const refresh = relay.holdNext();
    await refresh.arrived;
    listener.signal("SIGINT");
    await new Promise((r) => setTimeout(r, 700));
    const startedEarly = listener.events.some((e) => e.type === "phase" && e.phase === "disabling");
    refresh.release();

    assert.equal(await listener.exited(), 0, listener.stderr());
    const stopped = listener.events.at(-1)!;
    assert.deepEqual(
      [stopped.type, stopped.reason, stopped.exit_code, stopped.disabled],
      ["stopped", "interrupted", 0, true],
      JSON.stringify(listener.events.slice(-4)),
    );
    assert.ok(listener.events.some((e) => e.type === "phase" && e.phase === "disabled"));
    assert.ok(
      !listener.events.some((e) => e.type === "warning" && e.code === "disable_failed"),
      "the clean-up was not skipped",
    );
    const api = await projectApi(stack, EMAIL, "infra");
    await assert.rejects(api.get(`${ADS}/${ready.id}`), /not found/i, "the tunnel is disabled");
    assert.ok(!startedEarly, "the signal took effect after the write, not during it");
  } finally {
    await origin.close();
    await relay.close();
    await stack.stop();
  }
});
