import assert from "node:assert/strict";
import { startApiProxy } from "./api-proxy.ts";
import type { AuthContext } from "../auth/token-source.ts";

function authWith(accessToken: () => Promise<string>): AuthContext {
  return {
    kind: "DATUM_TOKEN",
    identity: { email: "a@example.com", subject: "1" },
    apiBase: "http://127.0.0.1:1",
    tokens: { accessToken, expiry: () => Promise.resolve(undefined) },
  };
}

/** A real upstream HTTP server; `release` lets the streaming route send its second chunk. */
function startUpstream() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/stream")) {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode('{"type":"ADDED"}\n'));
          await released;
          controller.enqueue(new TextEncoder().encode('{"type":"MODIFIED"}\n'));
          controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    if (url.pathname.endsWith("/unauthorized")) {
      return new Response('{"kind":"Status","code":401}', { status: 401 });
    }
    return Response.json({
      path: url.pathname + url.search,
      authorization: req.headers.get("authorization"),
      body: req.body ? await req.text() : null,
    });
  });
  return { server, release, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("api proxy: injects a fresh bearer, keeps the path, streams unbuffered", async () => {
  const upstream = startUpstream();
  const logs: string[] = [];
  const proxy = await startApiProxy({
    auth: authWith(() => Promise.resolve("fresh-token")),
    upstream: `${upstream.url}/cp/root/`,
    onAccess: (line) => logs.push(line),
  });
  try {
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const echoed = await (await fetch(`${proxy.url}/apis/x?watch=0`, {
      method: "POST",
      headers: { authorization: "Bearer stolen", "content-type": "application/json" },
      body: '{"payload":1}',
    })).json();
    assert.deepEqual(echoed, {
      path: "/cp/root/apis/x?watch=0",
      authorization: "Bearer fresh-token",
      body: '{"payload":1}',
    });

    const res = await fetch(`${proxy.url}/stream`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    // The upstream holds its second chunk until the first has reached us through the proxy.
    let text = "";
    while (!text.includes("ADDED")) text += (await reader.read()).value ?? "";
    upstream.release();
    while (!text.includes("MODIFIED")) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += chunk.value;
    }
    assert.equal(text, '{"type":"ADDED"}\n{"type":"MODIFIED"}\n');
    await reader.cancel();

    const denied = await fetch(`${proxy.url}/unauthorized`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("x-datum-proxy-error"), null);
    assert.equal(await denied.text(), '{"kind":"Status","code":401}');

    assert.match(logs[0], /^\d\d:\d\d:\d\d POST \/apis\/x\?watch=0 200 \d+ms \d+B$/);
  } finally {
    await proxy.close(100);
    await upstream.server.shutdown();
  }
});

Deno.test("api proxy: its own failures are 502 Status answers marked as proxy errors", async () => {
  // A port that was just free: nothing listens there.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const down = await startApiProxy({
    auth: authWith(() => Promise.resolve("t")),
    upstream: `http://127.0.0.1:${deadPort}`,
  });
  try {
    const res = await fetch(`${down.url}/api`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get("x-datum-proxy-error"), "true");
    const status = await res.json();
    assert.equal(status.kind, "Status");
    assert.equal(status.reason, "ProxyUpstreamError");
    assert.equal(status.code, 502);
  } finally {
    await down.close(100);
  }

  let calls = 0;
  const noToken = await startApiProxy({
    auth: authWith(() => {
      calls++;
      return Promise.reject(new Error("refresh token revoked"));
    }),
    upstream: "http://127.0.0.1:1",
    refreshCooldownMs: 60_000,
  });
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${noToken.url}/api`);
      assert.equal(res.status, 502);
      assert.equal(res.headers.get("x-datum-proxy-error"), "true");
      const status = await res.json();
      assert.equal(status.reason, "ProxyAuthenticationFailed");
      assert.match(status.message, /refresh token revoked/);
    }
    // The second request fell in the cooldown after the failed refresh.
    assert.equal(calls, 1);
  } finally {
    await noToken.close(100);
  }
});
