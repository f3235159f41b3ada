/**
 * Fast restart on the local stack with the gateway emulating the edge's 30 s
 * iroh DNS TTL: a named tunnel restarted right after a stop binds the UDP port of its last run
 * (remembered in `endpoint.yml` beside its key), so the gateway's cached answer stays valid and the
 * public URL answers again well within the TTL; a taken port falls back to a new one with a
 * `udp_port_changed` warning; an `endpoint.yml` that does not parse stops the listener (65) and is
 * left as it was.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { parse } from "yaml";
import { runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import {
  type Listener,
  loginHome,
  startListener,
  startOrigin,
  tunnelEnv,
  waitForPublic,
} from "./support/tunnel.ts";

const TTL_SECONDS = 30;
/** Well within the TTL: a restart that lost its port waits ~30 s and fails this. */
const WITHIN_TTL_MS = 15_000;

async function rememberedPort(path: string): Promise<number> {
  const doc = parse(await Deno.readTextFile(path)) as { udp_port?: number };
  assert.ok(doc.udp_port, `no udp_port in ${path}`);
  return doc.udp_port;
}

function bindUdp(port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "127.0.0.1", () => resolve(socket));
  });
}

Deno.test("a restarted named tunnel keeps its UDP port and serves again within the DNS TTL", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  const listeners: Listener[] = [];
  let blocker: dgram.Socket | undefined;
  const listen = (home: string, env: Record<string, string>) => {
    const l = startListener(home, [String(origin.port), "--name", "web", "-o", "json"], env);
    listeners.push(l);
    return l;
  };
  const stop = async (l: Listener) => {
    l.signal("SIGTERM");
    assert.equal(await l.exited(), 0, l.stderr());
  };
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const settings = await stack.setSettings({ dnsTtlSeconds: TTL_SECONDS });
    assert.equal(settings.dnsTtlSeconds, TTL_SECONDS);
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    const file = `${home}/.local/share/datumctl/connect/web/projects/infra/endpoint.yml`;
    const served = (a: { status: number; body: string }) =>
      a.status === 200 && a.body === "hello from origin /\n";

    const first = listen(home, env);
    const ready = await first.waitForEvent((e) => e.type === "ready");
    const hostname = ready.hostnames[0] as string;
    const port = await rememberedPort(file);
    const identity = first.events.find((e) => e.type === "identity")!;
    assert.equal(parse(await Deno.readTextFile(file)).endpoint_id, identity.endpoint_id);
    await waitForPublic(gateway, hostname, served, 5_000);
    await stop(first);

    // Right after the stop: the gateway holds the old answer for 30 s, so only the same port
    // can answer within 15 s.
    const second = listen(home, env);
    await waitForPublic(gateway, hostname, served, WITHIN_TTL_MS);
    await second.waitForEvent((e) => e.type === "ready", WITHIN_TTL_MS);
    assert.equal(await rememberedPort(file), port, "the restart bound the remembered port");
    assert.ok(!second.events.some((e) => e.code === "udp_port_changed"), second.stdout());
    const note = second.events.find((e) => e.code === "restart_within_dns_ttl");
    assert.match(note?.message, /listens on the same UDP port.*no wait expected/);
    await stop(second);

    // The port is taken by someone else: a new one, and a warning that the URL may lag.
    await stack.setSettings({ dnsTtlSeconds: 0 });
    blocker = await bindUdp(port);
    const third = listen(home, env);
    const warning = await third.waitForEvent((e) => e.code === "udp_port_changed");
    assert.match(warning.message, new RegExp(`UDP port ${port} of the last run is not available`));
    assert.match(warning.message, /up to 30s/);
    await third.waitForEvent((e) => e.type === "ready");
    const wait = third.events.find((e) => e.code === "restart_within_dns_ttl");
    assert.match(wait?.message, /may keep its old address for up to 30s/);
    const moved = await rememberedPort(file);
    assert.notEqual(moved, port);
    await waitForPublic(gateway, hostname, served, 5_000);
    await stop(third);

    // A file we cannot read is reported (65), never overwritten.
    const garbage = "udp_port: [unclosed\n";
    await Deno.writeTextFile(file, garbage);
    const bad = await runCli(["tunnel", "listen", String(origin.port), "--name", "web"], {
      home,
      env,
    });
    assert.equal(bad.code, 65, bad.stderr);
    assert.match(bad.stderr, new RegExp(`cannot read ${file.replaceAll(".", "\\.")} line \\d`));
    assert.equal(await Deno.readTextFile(file), garbage);
  } finally {
    blocker?.close();
    for (const l of listeners) {
      l.signal("SIGKILL");
      await l.exited().catch(() => {});
    }
    await origin.close();
    await stack.stop();
  }
});
