/**
 * The tunnel engine end to end on loopback: a gateway and an agent (relays disabled, no
 * discovery, so nothing leaves the machine) in front of real origins served by Deno.
 *
 * Requests go to the gateway with node:http so each can carry its own `Host`; the gateway
 * routes by it over iroh to the agent, which dials the origin the allowlist stores.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { createHash } from "node:crypto";
import {
  type Agent,
  type Gateway,
  type GatewayRoute,
  generateSecretKey,
  startAgent,
  startGateway,
} from "../lib/tunnel/engine.ts";

const encoder = new TextEncoder();
const STEP_TIMEOUT_MS = 60_000;

interface Fixture {
  origin: Deno.HttpServer<Deno.NetAddr>;
  originPort: number;
  echo: Deno.TcpListener;
  echoPort: number;
  deadPort: number;
  agent: Agent;
  gateway: Gateway;
  route(hostname: string, targetHost: string, targetPort: number): GatewayRoute;
  /** The routes every test can rely on. */
  routes: GatewayRoute[];
  sseGate: PromiseWithResolvers<void>;
}

/** A port nothing listens on (bound, read, released). */
function unusedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function startOrigin(fixture: { sseGate: PromiseWithResolvers<void> }) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const url = new URL(req.url);
      switch (url.pathname) {
        case "/hello":
          return new Response(`hello from ${req.headers.get("host")}`, {
            headers: { "x-forwarded-host-seen": req.headers.get("x-forwarded-host") ?? "" },
          });
        case "/echo":
          return new Response(req.body);
        case "/sse": {
          const gate = fixture.sseGate;
          const body = new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(encoder.encode("data: first\n\n"));
              await gate.promise;
              controller.enqueue(encoder.encode("data: second\n\n"));
              controller.close();
            },
          });
          return new Response(body, { headers: { "content-type": "text/event-stream" } });
        }
        case "/ws": {
          const { socket, response } = Deno.upgradeWebSocket(req);
          socket.onmessage = (e) => socket.send(e.data);
          return response;
        }
        default:
          return new Response("not found", { status: 404 });
      }
    },
  );
}

async function serveEcho(listener: Deno.TcpListener) {
  for await (const conn of listener) {
    // Echo until EOF, then close our side: exercises half-close in both directions.
    (async () => {
      try {
        await conn.readable.pipeTo(conn.writable);
      } catch {
        conn.close();
      }
    })();
  }
}

let fixturePromise: Promise<Fixture> | undefined;

function fixture(): Promise<Fixture> {
  fixturePromise ??= (async () => {
    const holder = { sseGate: Promise.withResolvers<void>() };
    const origin = startOrigin(holder);
    const originPort = origin.addr.port;
    const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const echoPort = (echo.addr as Deno.NetAddr).port;
    serveEcho(echo);
    const deadPort = unusedPort();
    const disabledPort = unusedPort();

    const agent = await startAgent({
      secretKey: generateSecretKey(),
      relays: "disabled",
      bindAddr: "127.0.0.1:0",
    });
    // The origin is stored as 127.0.0.1 and asked for as localhost: both must meet.
    agent.setAllowlist([
      { host: "127.0.0.1", port: originPort, enabled: true },
      { host: "localhost", port: echoPort, enabled: true },
      { host: "localhost", port: deadPort, enabled: true },
      { host: "127.0.0.1", port: disabledPort, enabled: false },
    ]);
    const gateway = await startGateway({ connectTimeoutMs: 1_500 });
    const addr = agent.address();
    const route = (hostname: string, targetHost: string, targetPort: number): GatewayRoute => ({
      hostname,
      endpointId: agent.endpointId,
      relayUrl: null,
      directAddresses: addr?.direct ?? [],
      targetHost,
      targetPort,
      online: true,
    });
    const routes = [
      route("app.test", "localhost", originPort),
      route("127.0.0.1", "localhost", originPort),
      route("closed-port.test", "localhost", 1),
      route("disabled.test", "localhost", disabledPort),
      route("lan.test", "192.168.1.10", originPort),
      route("dead.test", "localhost", deadPort),
      { ...route("offline.test", "localhost", originPort), online: false },
    ];
    gateway.setRoutes(routes);
    return Object.assign(holder, {
      routes,
      origin,
      originPort,
      echo,
      echoPort,
      deadPort,
      agent,
      gateway,
      route,
    });
  })();
  return fixturePromise;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through the gateway with the given Host. */
function request(
  gateway: Gateway,
  host: string,
  path: string,
  opts: { method?: string; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: gateway.port,
      path,
      method: opts.method ?? "GET",
      headers: { host },
      agent: false,
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => body += chunk);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("engine: GET through gateway and agent keeps the visitor's Host", opts, async () => {
  const f = await fixture();
  const reply = await request(f.gateway, "app.test", "/hello");
  assert.equal(reply.status, 200);
  // The agent is asked for localhost:<port> and dials the stored 127.0.0.1.
  assert.equal(reply.body, `hello from localhost:${f.originPort}`);
  assert.equal(reply.headers["x-forwarded-host-seen"], "app.test");
});

Deno.test("engine: a 64 MiB POST streams both ways intact", opts, async () => {
  const f = await fixture();
  const total = 64 * 1024 * 1024;
  const chunk = new Uint8Array(1024 * 1024);
  const sent = createHash("sha256");
  const received = createHash("sha256");
  let receivedBytes = 0;
  let seed = 0x9e3779b9;
  await new Promise<void>((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: f.gateway.port,
      path: "/echo",
      method: "POST",
      headers: { host: "app.test", "content-type": "application/octet-stream" },
      agent: false,
    }, (res) => {
      assert.equal(res.statusCode, 200);
      res.on("data", (data: Uint8Array) => {
        received.update(data);
        receivedBytes += data.length;
      });
      res.on("end", resolve);
      res.on("error", reject);
    });
    req.on("error", reject);
    let written = 0;
    const writeMore = () => {
      while (written < total) {
        for (let i = 0; i < chunk.length; i += 4) {
          seed ^= seed << 13;
          seed ^= seed >>> 17;
          seed ^= seed << 5;
          chunk[i] = seed;
          chunk[i + 1] = seed >>> 8;
          chunk[i + 2] = seed >>> 16;
          chunk[i + 3] = seed >>> 24;
        }
        const copy = chunk.slice();
        sent.update(copy);
        written += copy.length;
        if (!req.write(copy)) {
          req.once("drain", writeMore);
          return;
        }
      }
      req.end();
    };
    writeMore();
  });
  assert.equal(receivedBytes, total);
  assert.equal(received.digest("hex"), sent.digest("hex"));
  const stats = f.agent.stats();
  assert.ok(stats.bytesToOrigin >= total, `bytesToOrigin ${stats.bytesToOrigin}`);
  assert.ok(stats.bytesFromOrigin >= total, `bytesFromOrigin ${stats.bytesFromOrigin}`);
});

Deno.test("engine: SSE events arrive before the origin finishes", opts, async () => {
  const f = await fixture();
  f.sseGate = Promise.withResolvers<void>();
  const gate = f.sseGate;
  const body = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("first SSE event never arrived: the stream is buffered")),
      STEP_TIMEOUT_MS,
    );
    const req = http.request({
      host: "127.0.0.1",
      port: f.gateway.port,
      path: "/sse",
      headers: { host: "app.test", accept: "text/event-stream" },
      agent: false,
    }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["content-type"], "text/event-stream");
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (data: string) => {
        text += data;
        if (text.includes("data: first\n\n") && !text.includes("second")) {
          clearTimeout(timer);
          // The origin is still holding its stream open: only now may it finish.
          gate.resolve();
        }
      });
      res.on("end", () => resolve(text));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal(body, "data: first\n\ndata: second\n\n");
});

Deno.test("engine: a WebSocket echoes through the tunnel", opts, async () => {
  const f = await fixture();
  const ws = new WebSocket(`ws://127.0.0.1:${f.gateway.port}/ws`);
  const messages: string[] = [];
  const done = Promise.withResolvers<void>();
  ws.onopen = () => {
    ws.send("ping 1");
    ws.send("ping 2");
  };
  ws.onmessage = (e) => {
    messages.push(String(e.data));
    if (messages.length === 2) ws.close();
  };
  ws.onclose = () => done.resolve();
  ws.onerror = (e) => done.reject(new Error(`websocket error: ${(e as ErrorEvent).message}`));
  await done.promise;
  assert.deepEqual(messages, ["ping 1", "ping 2"]);
});

async function readUntil(conn: Deno.Conn, marker: string): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes(marker)) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return text;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

/** A raw CONNECT to the gateway naming the agent the way Datum's edge does. */
async function connectThrough(
  f: Fixture,
  target: string,
): Promise<{ conn: Deno.Conn; head: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: f.gateway.port });
  await conn.write(encoder.encode(
    `CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\nx-iroh-endpoint-id: ${f.agent.endpointId}\r\n\r\n`,
  ));
  const head = await readUntil(conn, "\r\n\r\n");
  return { conn, head };
}

Deno.test("engine: raw CONNECT tunnels TCP with half-close", opts, async () => {
  const f = await fixture();
  // Stored as localhost, asked for as [::1]: loopback spellings are one host.
  const { conn, head } = await connectThrough(f, `[::1]:${f.echoPort}`);
  try {
    assert.match(head, /^HTTP\/1\.1 200 /);
    await conn.write(encoder.encode("hello over a raw tunnel"));
    await conn.closeWrite();
    // The echo server sees our FIN only if it crossed QUIC, then finishes its side.
    assert.equal(await readToEnd(conn), "hello over a raw tunnel");
  } finally {
    conn.close();
  }
});

Deno.test("engine: 403 for a port not on the allowlist or disabled", opts, async () => {
  const f = await fixture();
  assert.equal((await request(f.gateway, "closed-port.test", "/hello")).status, 403);
  assert.equal((await request(f.gateway, "disabled.test", "/hello")).status, 403);
  const { conn, head } = await connectThrough(f, `localhost:${f.originPort + 2}`);
  conn.close();
  assert.match(head, /^HTTP\/1\.1 403 /);
});

Deno.test("engine: 403 for a LAN address", opts, async () => {
  const f = await fixture();
  const denied = f.agent.stats().streamsDenied;
  const reply = await request(f.gateway, "lan.test", "/hello");
  assert.equal(reply.status, 403);
  const { conn, head } = await connectThrough(f, `10.0.0.1:${f.originPort}`);
  conn.close();
  assert.match(head, /^HTTP\/1\.1 403 /);
  assert.equal(f.agent.stats().streamsDenied, denied + 2);
});

Deno.test("engine: 502 when the origin is down", opts, async () => {
  const f = await fixture();
  const reply = await request(f.gateway, "dead.test", "/hello");
  assert.equal(reply.status, 502);
  const { conn, head } = await connectThrough(f, `127.0.0.1:${f.deadPort}`);
  conn.close();
  assert.match(head, /^HTTP\/1\.1 502 /);
});

Deno.test("engine: 404 for an unknown host, 503 for an offline route", opts, async () => {
  const f = await fixture();
  assert.equal((await request(f.gateway, "nobody.test", "/hello")).status, 404);
  const offline = await request(f.gateway, "offline.test", "/hello");
  assert.equal(offline.status, 503);
  assert.equal(offline.body, "Tunnel not online\n");
});

Deno.test("engine: 503 Tunnel not online when the agent is down", opts, async () => {
  const f = await fixture();
  const agent = await startAgent({
    secretKey: generateSecretKey(),
    relays: "disabled",
    bindAddr: "127.0.0.1:0",
  });
  agent.setAllowlist([{ host: "localhost", port: f.originPort, enabled: true }]);
  const routeTo = (a: Agent): GatewayRoute => ({
    ...f.route("down.test", "localhost", f.originPort),
    endpointId: a.endpointId,
    directAddresses: a.address()?.direct ?? [],
  });
  f.gateway.setRoutes([...f.routes, routeTo(agent)]);
  try {
    assert.equal((await request(f.gateway, "down.test", "/hello")).status, 200);
    await agent.close();
    const reply = await request(f.gateway, "down.test", "/hello");
    assert.equal(reply.status, 503);
    assert.equal(reply.body, "Tunnel not online\n");
  } finally {
    f.gateway.setRoutes(f.routes);
  }
});

Deno.test("engine: address, change callback and statistics", opts, async () => {
  const f = await fixture();
  const addr = f.agent.address();
  assert.match(f.agent.endpointId, /^[0-9a-f]{64}$/);
  assert.ok(addr);
  assert.equal(addr.relay, undefined);
  assert.ok(
    addr.direct.some((a) => a.startsWith("127.0.0.1:")),
    String(addr.direct),
  );
  const seen = Promise.withResolvers<typeof addr | undefined>();
  f.agent.onAddressChange(() => seen.resolve(f.agent.address()));
  assert.deepEqual(await seen.promise, addr);

  const stats = f.agent.stats();
  assert.ok(stats.streamsTotal >= 5);
  assert.equal(stats.streamsActive >= 0, true);
  const gatewayPeer = stats.peers.find((p) => p.endpointId === f.gateway.endpointId);
  assert.ok(gatewayPeer, JSON.stringify(stats.peers));
  assert.equal(gatewayPeer.path, "direct");
  assert.ok(gatewayPeer.remoteAddr?.startsWith("127.0.0.1:"));
  assert.equal(typeof gatewayPeer.rttMs, "number");
});

Deno.test("engine: bad input is rejected with a clear message", opts, async () => {
  const f = await fixture();
  assert.throws(
    () => f.agent.setAllowlist([{ host: "localhost", port: 70000, enabled: true }]),
    /port 70000/,
  );
  assert.throws(
    () => f.gateway.setRoutes([{ ...f.route("x.test", "localhost", 1), endpointId: "nope" }]),
    /endpoint id/,
  );
  await assert.rejects(
    startAgent({ secretKey: new Uint8Array(16), relays: "disabled" }),
    /32 bytes/,
  );
});

Deno.test("engine: a missing engine file is one clear CliError", async () => {
  const script = `
    import { startAgent } from ${
    JSON.stringify(new URL("../lib/tunnel/engine.ts", import.meta.url).href)
  };
    try { await startAgent({ secretKey: new Uint8Array(32) }); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { DATUMCTL_ENGINE: "/nonexistent/datumctl_engine.node", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const error = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(error.name, "CliError");
  assert.equal(error.code, "ENGINE_MISSING");
  assert.match(error.message, /\/nonexistent\/datumctl_engine\.node/);
});

Deno.test("engine: teardown", opts, async () => {
  const f = await fixture();
  f.sseGate.resolve();
  await f.gateway.close();
  await f.agent.close();
  f.echo.close();
  await f.origin.shutdown();
});
