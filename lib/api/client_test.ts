import assert from "node:assert/strict";
import { ApiClient, USER_AGENT } from "./client.ts";
import { ApiError, isQuotaCheckTimeout } from "./errors.ts";
import type { AuthContext } from "../auth/token-source.ts";
import { ExitCode } from "../core/errors.ts";

const QUOTA_TIMEOUT_MESSAGE =
  "Your request took too long to be checked against your quota. Please try again in a moment — if this keeps happening, contact support.";
const ENVOY_503 =
  "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

/** A token source that hands out `t1`, `t2`, … and records forced refreshes. */
function testAuth(apiBase: string) {
  let n = 1;
  const calls: { forceRefresh: boolean }[] = [];
  const auth: AuthContext = {
    kind: "session",
    identity: { email: "alice@example.com", subject: "u-alice" },
    apiBase,
    sessionName: "alice@example.com@127.0.0.1",
    tokens: {
      accessToken(options) {
        calls.push({ forceRefresh: options?.forceRefresh === true });
        if (options?.forceRefresh) n++;
        return Promise.resolve(`t${n}`);
      },
      expiry: () => Promise.resolve(undefined),
    },
  };
  return { auth, calls };
}

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** Starts a real HTTP server on loopback; `handler` decides each answer. */
function serve(handler: (req: Seen, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const s: Seen = {
      method: req.method,
      url: new URL(req.url),
      headers: req.headers,
      body: await req.text(),
    };
    seen.push(s);
    return handler(s, seen.length);
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { base, seen, close: () => server.shutdown() };
}

function status(code: number, reason: string, message: string): Response {
  return Response.json({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    message,
    reason,
    code,
  }, {
    status: code,
  });
}

const FAST = { attempts: 4, initialDelayMs: 1, maxDelayMs: 5 };
const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";

Deno.test("GET sends the User-Agent and the bearer and parses JSON", async () => {
  const srv = serve(() => Response.json({ kind: "Connector", metadata: { name: "c1" } }));
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: `${srv.base}/`, retry: FAST });
    const obj = await client.get<{ metadata: { name: string } }>(`${CONNECTORS}/c1`);
    assert.equal(obj.metadata.name, "c1");
    assert.equal(srv.seen[0].headers.get("user-agent"), USER_AGENT);
    assert.match(USER_AGENT, /^datumctl\/\d+\.\d+\.\d+/);
    assert.equal(srv.seen[0].headers.get("authorization"), "Bearer t1");
    assert.equal(srv.seen[0].url.pathname, `${CONNECTORS}/c1`);
  } finally {
    await srv.close();
  }
});

Deno.test("a 401 forces one token refresh and retries with the new token", async () => {
  const srv = serve((req) =>
    req.headers.get("authorization") === "Bearer t2"
      ? Response.json({ items: [] })
      : status(401, "Unauthorized", "Unauthorized")
  );
  try {
    const { auth, calls } = testAuth(srv.base);
    // POST is not retried for transient failures, but the 401 refresh applies to every method.
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await client.create(CONNECTORS, { kind: "Connector" });
    assert.equal(srv.seen.length, 2);
    assert.deepEqual(calls, [{ forceRefresh: false }, { forceRefresh: true }]);
    assert.equal(srv.seen[1].body, JSON.stringify({ kind: "Connector" }));
  } finally {
    await srv.close();
  }
});

Deno.test("a second 401 is a not-authenticated error (exit 77), no more refreshes", async () => {
  const srv = serve(() => status(401, "Unauthorized", "Unauthorized"));
  try {
    const { auth, calls } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(() => client.get(CONNECTORS), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.exitCode, ExitCode.noPermission);
      assert.equal(err.code, "UNAUTHORIZED");
      assert.equal(err.retryable, false);
      assert.match(err.hint ?? "", /datumctl login/);
      assert.doesNotMatch(err.message, /t1|t2/);
      return true;
    });
    assert.equal(srv.seen.length, 2);
    assert.equal(calls.filter((c) => c.forceRefresh).length, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("GET rides out Envoy's 503 with retries", async () => {
  const srv = serve((_req, n) =>
    n <= 2 ? new Response(ENVOY_503, { status: 503 }) : Response.json({ items: [{ a: 1 }] })
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    const list = await client.list<{ a: number }>(CONNECTORS);
    assert.deepEqual(list.items, [{ a: 1 }]);
    assert.equal(srv.seen.length, 3);
  } finally {
    await srv.close();
  }
});

Deno.test("a 503 that persists is one retryable line, exit 69, after all attempts", async () => {
  const srv = serve(() => new Response(ENVOY_503, { status: 503 }));
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(() => client.get(`${CONNECTORS}/c1`), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.exitCode, ExitCode.unavailable);
      assert.equal(err.retryable, true);
      assert.equal(err.httpStatus, 503);
      assert.ok(!err.message.includes("\n"));
      assert.match(err.message, /connectors "c1"/);
      assert.match(err.message, /upstream connect error/);
      return true;
    });
    assert.equal(srv.seen.length, FAST.attempts);
  } finally {
    await srv.close();
  }
});

Deno.test("POST and PATCH are not retried on 503 unless the caller opts in", async () => {
  const srv = serve((_req, n) =>
    n <= 3 ? new Response(ENVOY_503, { status: 503 }) : Response.json({ ok: true })
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(() => client.create(CONNECTORS, {}), ApiError);
    await assert.rejects(() => client.patchMerge(`${CONNECTORS}/c1`, {}), ApiError);
    assert.equal(srv.seen.length, 2);
    const ok = await client.requestJson<{ ok: boolean }>("POST", CONNECTORS, {
      body: {},
      retry: true,
    });
    assert.deepEqual(ok, { ok: true });
    assert.equal(srv.seen.length, 4);
    assert.equal(srv.seen[1].headers.get("content-type"), "application/merge-patch+json");
  } finally {
    await srv.close();
  }
});

Deno.test("the quota-check timeout 403 is recognised and retried, even on create", async () => {
  const srv = serve((_req, n) =>
    n === 1 ? status(403, "Forbidden", QUOTA_TIMEOUT_MESSAGE) : Response.json({ created: true })
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    assert.deepEqual(await client.create(CONNECTORS, {}), { created: true });
    assert.equal(srv.seen.length, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("a persistent quota-check timeout is retryable (69), not a permission error", async () => {
  const srv = serve(() => status(403, "Forbidden", QUOTA_TIMEOUT_MESSAGE));
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(() => client.create(CONNECTORS, {}), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.ok(isQuotaCheckTimeout(err));
      assert.equal(err.code, "QUOTA_CHECK_TIMEOUT");
      assert.equal(err.exitCode, ExitCode.unavailable);
      assert.equal(err.retryable, true);
      assert.doesNotMatch(err.message, /Quota limit exceeded/);
      return true;
    });
  } finally {
    await srv.close();
  }
});

Deno.test("a real quota refusal and a plain Forbidden are permission errors (77), not retried", async () => {
  const srv = serve((_req, n) =>
    n === 1 ? status(403, "Forbidden", "Insufficient quota for connectors") : status(
      403,
      "Forbidden",
      'connectors.networking.datumapis.com "c1" is forbidden: User "alice" cannot get resource',
    )
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(() => client.create(CONNECTORS, {}), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(isQuotaCheckTimeout(err), false);
      assert.equal(err.exitCode, ExitCode.noPermission);
      assert.equal(err.code, "FORBIDDEN");
      return true;
    });
    await assert.rejects(() => client.get(`${CONNECTORS}/c1`), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.exitCode, ExitCode.noPermission);
      // The server's message already names the object, so it is kept as it is.
      assert.equal(
        err.message,
        'connectors.networking.datumapis.com "c1" is forbidden: User "alice" cannot get resource',
      );
      return true;
    });
    assert.equal(srv.seen.length, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("a Status body becomes one line naming the resource, code from the reason, exit 1", async () => {
  const srv = serve((req) =>
    req.method === "GET"
      ? status(404, "NotFound", "the server could not find the requested resource")
      : status(409, "AlreadyExists", 'connectors.networking.datumapis.com "c1" already exists')
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({
      auth,
      baseUrl: `${srv.base}/apis/resourcemanager.miloapis.com/v1alpha1/projects/p1/control-plane`,
      retry: FAST,
    });
    await assert.rejects(() => client.get(`${CONNECTORS}/c1`), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(
        err.message,
        'GET connectors "c1": the server could not find the requested resource',
      );
      assert.equal(err.code, "NOT_FOUND");
      assert.equal(err.reason, "NotFound");
      assert.equal(err.httpStatus, 404);
      assert.equal(err.exitCode, ExitCode.error);
      assert.equal(err.retryable, false);
      return true;
    });
    await assert.rejects(() => client.create(CONNECTORS, {}), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, "ALREADY_EXISTS");
      assert.match(err.hint ?? "", /apply/);
      return true;
    });
    assert.equal(srv.seen.length, 2);
  } finally {
    await srv.close();
  }
});

/** A TCP server that accepts connections, reads the request and hangs up without answering. */
function resettingServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const done = (async () => {
    for await (const conn of listener) {
      connections++;
      await conn.read(new Uint8Array(4096)).catch(() => null);
      conn.close();
    }
  })();
  return {
    base: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    connections: () => connections,
    close: async () => {
      listener.close();
      await done.catch(() => {});
    },
  };
}

Deno.test("connection resets are retried for GET, not for POST; then exit 69", async () => {
  const srv = resettingServer();
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(() => client.get(CONNECTORS), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, "API_UNREACHABLE");
      assert.equal(err.exitCode, ExitCode.unavailable);
      assert.equal(err.retryable, true);
      return true;
    });
    assert.equal(srv.connections(), FAST.attempts);
    await assert.rejects(() => client.create(CONNECTORS, {}), ApiError);
    assert.equal(srv.connections(), FAST.attempts + 1);
  } finally {
    await srv.close();
  }
});

Deno.test("an unreachable API is exit 69 and names the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const base = `http://127.0.0.1:${port}`;
  const { auth } = testAuth(base);
  const client = new ApiClient({ auth, baseUrl: base, retry: FAST });
  await assert.rejects(() => client.create(CONNECTORS, {}), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.exitCode, ExitCode.unavailable);
    assert.match(err.message, new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}`));
    return true;
  });
});

Deno.test("list follows continue tokens; apply uses server-side apply as datumctl", async () => {
  const srv = serve((req) => {
    if (req.method === "PATCH") return Response.json(JSON.parse(req.body));
    const cont = req.url.searchParams.get("continue");
    return Response.json(
      cont
        ? { kind: "List", metadata: {}, items: [{ n: 2 }] }
        : { kind: "List", metadata: { continue: "next" }, items: [{ n: 1 }] },
    );
  });
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    const list = await client.list<{ n: number }>(CONNECTORS, { limit: 1 });
    assert.deepEqual(list.items, [{ n: 1 }, { n: 2 }]);
    assert.equal(srv.seen[0].url.searchParams.get("limit"), "1");
    const applied = await client.apply(`${CONNECTORS}/c1`, { kind: "Connector" }, { force: true });
    assert.deepEqual(applied, { kind: "Connector" });
    const req = srv.seen[2];
    assert.equal(req.headers.get("content-type"), "application/apply-patch+yaml");
    assert.equal(req.url.searchParams.get("fieldManager"), "datumctl");
    assert.equal(req.url.searchParams.get("force"), "true");
  } finally {
    await srv.close();
  }
});

Deno.test("watch yields each event as it arrives, before the stream ends", async () => {
  let sendSecond!: () => void;
  const second = new Promise<void>((resolve) => (sendSecond = resolve));
  const encoder = new TextEncoder();
  const srv = serve((req) => {
    assert.equal(req.url.searchParams.get("watch"), "true");
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(
          encoder.encode(JSON.stringify({ type: "ADDED", object: { n: 1 } }) + "\n"),
        );
        // The second event is only sent once the client has seen the first: a buffering client
        // would wait forever here.
        await second;
        const line = JSON.stringify({ type: "MODIFIED", object: { n: 2 } }) + "\n";
        controller.enqueue(encoder.encode(line.slice(0, 10)));
        controller.enqueue(encoder.encode(line.slice(10)));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    const events: unknown[] = [];
    for await (const event of client.watch<{ n: number }>(CONNECTORS, { resourceVersion: "5" })) {
      events.push(event);
      if (events.length === 1) sendSecond();
    }
    assert.deepEqual(events, [
      { type: "ADDED", object: { n: 1 } },
      { type: "MODIFIED", object: { n: 2 } },
    ]);
    assert.equal(srv.seen[0].url.searchParams.get("resourceVersion"), "5");
  } finally {
    await srv.close();
  }
});

Deno.test("a watch ERROR event is thrown as an ApiError", async () => {
  const srv = serve(() =>
    new Response(
      JSON.stringify({
        type: "ERROR",
        object: {
          kind: "Status",
          code: 410,
          reason: "Expired",
          message: "too old resource version",
        },
      }) + "\n",
    )
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    await assert.rejects(async () => {
      for await (const _ of client.watch(CONNECTORS)) { /* nothing before the error */ }
    }, (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.httpStatus, 410);
      assert.equal(err.code, "EXPIRED");
      return true;
    });
  } finally {
    await srv.close();
  }
});

Deno.test("forward relays any status unchanged with a fresh bearer", async () => {
  const srv = serve((req) =>
    req.headers.get("authorization") === "Bearer t2"
      ? status(403, "Forbidden", "nope")
      : status(401, "Unauthorized", "Unauthorized")
  );
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({ auth, baseUrl: srv.base, retry: FAST });
    const res = await client.forward("GET", CONNECTORS, {
      headers: new Headers({ authorization: "Bearer stolen", "user-agent": "curl/8" }),
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).message, "nope");
    assert.equal(srv.seen[0].headers.get("authorization"), "Bearer t1");
    assert.equal(srv.seen[1].headers.get("user-agent"), "curl/8");
  } finally {
    await srv.close();
  }
});

Deno.test("the header timeout cuts a server that never answers, not a slow body", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  // Without a working timeout the held request is answered (and the test fails) after 2 s.
  const fallback = setTimeout(() => release(), 2000);
  const srv = serve(async (req) => {
    if (req.url.pathname.endsWith("/held")) {
      await held;
      return Response.json({});
    }
    // Headers at once, the body after more than the timeout.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        controller.enqueue(new TextEncoder().encode('{"kind":"Slow"}'));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  try {
    const { auth } = testAuth(srv.base);
    const client = new ApiClient({
      auth,
      baseUrl: srv.base,
      retry: { attempts: 1 },
      timeoutMs: 150,
    });
    const started = Date.now();
    await assert.rejects(() => client.get("/held"), (err: unknown) => {
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.exitCode, ExitCode.unavailable);
      return true;
    });
    assert.ok(Date.now() - started < 2000, "the timeout did not cut the held request");
    assert.deepEqual(await client.get("/slow"), { kind: "Slow" });
  } finally {
    clearTimeout(fallback);
    release();
    await srv.close();
  }
});
