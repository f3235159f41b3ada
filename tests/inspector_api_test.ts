/**
 * The request inspector end to end on the local stack: `tunnel listen --inspect` on a named
 * tunnel prints its URL; requests sent through the stack's gateway appear in /api/requests with
 * their headers (secrets masked) and body prefixes; a replay reaches the origin again and is
 * listed as a replay (also edited); the live list streams them; Host, Origin and token checks
 * refuse; `tunnel inspect --name N` finds the running inspector, and nothing is left behind.
 */
import assert from "node:assert/strict";
import { runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { loginHome, startListener, tunnelEnv } from "./support/tunnel.ts";
import {
  BIG_BODY,
  inspectorUrlFrom,
  rawRequest,
  startRecordingOrigin,
  visit,
} from "./support/inspector.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("tunnel listen --inspect: capture, API, replay and the safety checks", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startRecordingOrigin();
  const home = await loginHome(stack, "alice@example.com");
  const env = tunnelEnv(stack);
  assert.ok(stack.gateway, "the local stack has a gateway");
  const gateway = stack.gateway;
  const listener = startListener(
    home,
    [String(origin.port), "--name", "insp", "--inspect", "-o", "json"],
    env,
  );
  try {
    const ready = await listener.waitForEvent((e) => e.type === "ready");
    const hostname: string = ready.hostnames[0];
    const url = inspectorUrlFrom(listener.stderr());
    assert.ok(url, `the inspector URL is printed on stderr:\n${listener.stderr()}`);
    assert.equal(url.hostname, "127.0.0.1");
    assert.ok(Number(url.port) >= 4040 && Number(url.port) < 4060, `port ${url.port}`);
    const token = url.searchParams.get("token")!;
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    const base = url.origin;
    const auth = { authorization: `Bearer ${token}` };
    const api = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string> ?? {}) },
      });
      return { status: res.status, body: await res.json() as Json };
    };
    assert.ok(
      !listener.stdout().includes(token) &&
        !listener.events.some((e) => JSON.stringify(e).includes(token)),
      "the token stays out of the event stream",
    );

    const payload = JSON.stringify({ hello: "world", n: 42 });
    let postId = 0;

    await t.step("requests through the gateway appear with headers and body prefixes", async () => {
      const answer = await visit(gateway, hostname, "/submit?x=1", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: "Bearer visitor-secret",
          cookie: "a=b",
          "x-trace": "t-1",
        },
        body: payload,
      });
      assert.equal(answer.status, 200, answer.body);
      assert.equal((await visit(gateway, hostname, "/big")).body.length, BIG_BODY);
      assert.equal((await visit(gateway, hostname, "/binary")).status, 200);

      let list: Json[] = [];
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        list = (await api("/api/requests")).body.requests;
        if (
          list.filter((r: Json) => r.done && ["/submit?x=1", "/big", "/binary"].includes(r.path))
            .length === 3
        ) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const post = list.find((r: Json) => r.path === "/submit?x=1");
      assert.ok(post, JSON.stringify(list));
      postId = post.id;
      assert.equal(post.method, "POST");
      assert.equal(post.status, 200);
      assert.equal(post.kind, "http");
      assert.match(post.peer, /^[0-9a-f]{64}$/, "the remote peer (the gateway) is named");
      assert.equal(post.request_bytes, payload.length);
      assert.ok(post.duration_ms >= 0);
      assert.equal(post.replay_of, null);

      const one = (await api(`/api/requests/${postId}`)).body;
      const header = (list: Json[], name: string) => list.find((h: Json) => h.name === name);
      assert.deepEqual(header(one.request.headers, "authorization"), {
        name: "authorization",
        value: "[masked]",
        masked: true,
      });
      assert.equal(header(one.request.headers, "cookie").value, "[masked]");
      assert.equal(header(one.request.headers, "x-trace").value, "t-1");
      // The edge asks the agent for the tunnel's endpoint, Host included.
      assert.equal(header(one.request.headers, "host").value, `localhost:${origin.port}`);
      assert.equal(header(one.response.headers, "set-cookie").value, "[masked]");
      assert.equal(one.request.body.text, payload);
      assert.equal(one.request.body.json, true);
      assert.deepEqual(JSON.parse(one.response.body.text), {
        ok: true,
        received: payload.length,
        method: "POST",
      });
      assert.equal(one.target, `localhost:${origin.port}`);

      const big = list.find((r: Json) => r.path === "/big");
      const bigOne = (await api(`/api/requests/${big.id}`)).body;
      assert.equal(bigOne.response.body.size, BIG_BODY);
      assert.equal(bigOne.response.body.truncated, true);
      assert.equal(bigOne.response.body.text.length, 64 * 1024, "the default 64 KiB prefix");

      const binary = list.find((r: Json) => r.path === "/binary");
      const binOne = (await api(`/api/requests/${binary.id}`)).body;
      assert.equal(binOne.response.body.encoding, "binary");
      assert.equal(atob(binOne.response.body.base64).length, 256);
    });

    await t.step("a replay reaches the origin again and is listed as a replay", async () => {
      const before = origin.seen.length;
      const replayed = await api(`/api/requests/${postId}/replay`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(replayed.status, 201, JSON.stringify(replayed.body));
      assert.equal(origin.seen.length, before + 1);
      const hit = origin.seen.at(-1)!;
      assert.equal(hit.method, "POST");
      assert.equal(hit.path, "/submit?x=1");
      assert.equal(hit.body, payload);
      assert.equal(
        hit.headers.get("authorization"),
        "Bearer visitor-secret",
        "secrets are replayed",
      );
      assert.equal(replayed.body.replay_of, postId);
      assert.equal(replayed.body.status, 200);
      const list = (await api("/api/requests")).body.requests;
      const entry = list.find((r: Json) => r.id === replayed.body.id);
      assert.equal(entry.replay_of, postId);
      assert.equal(entry.peer, "replay");

      const edited = await api(`/api/requests/${postId}/replay`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          method: "PUT",
          path: "/edited?y=2",
          headers: [{ name: "x-edited", value: "yes" }, {
            name: "authorization",
            value: "[masked]",
          }],
          body: "changed",
        }),
      });
      assert.equal(edited.status, 201, JSON.stringify(edited.body));
      const last = origin.seen.at(-1)!;
      assert.deepEqual([last.method, last.path, last.body], ["PUT", "/edited?y=2", "changed"]);
      assert.equal(last.headers.get("x-edited"), "yes");
      assert.equal(last.headers.get("authorization"), "Bearer visitor-secret");
      assert.equal(
        last.headers.get("x-trace"),
        null,
        "the edited header list replaced the old one",
      );

      const bad = await api(`/api/requests/${postId}/replay`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: "http://elsewhere/" }),
      });
      assert.equal(bad.status, 400);
      assert.equal((await api("/api/requests/999999")).status, 404);
    });

    await t.step("the live list streams requests as they arrive", async () => {
      const res = await fetch(`${base}/api/events`, { headers: auth });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      const read = async (pattern: RegExp) => {
        const until = Date.now() + 10_000;
        while (!pattern.test(text)) {
          if (Date.now() > until) throw new Error(`no ${pattern} in the stream:\n${text}`);
          const { value, done } = await reader.read();
          if (done) throw new Error("the stream ended");
          text += value;
        }
      };
      await read(/"path":"\/submit\?x=1"/);
      await visit(gateway, hostname, "/live-one");
      await read(/"path":"\/live-one".*"done":true/);
      await reader.cancel();
    });

    await t.step("Host, Origin and token checks refuse", async () => {
      const port = url.port;
      const list = "/api/requests";
      const ok = await rawRequest(base, list, { headers: { host: `127.0.0.1:${port}`, ...auth } });
      assert.equal(ok.status, 200);
      const localhost = await rawRequest(base, list, {
        headers: { host: `localhost:${port}`, ...auth },
      });
      assert.equal(localhost.status, 200);
      // DNS rebinding: a hostile name that resolves to 127.0.0.1 still sends its own Host.
      const rebound = await rawRequest(base, list, {
        headers: { host: `evil.example:${port}`, ...auth },
      });
      assert.equal(rebound.status, 403);
      const otherPort = await rawRequest(base, list, {
        headers: { host: `127.0.0.1:${Number(port) + 1000}`, ...auth },
      });
      assert.equal(otherPort.status, 403);
      const crossSite = await rawRequest(base, `${list}/${postId}/replay`, {
        method: "POST",
        headers: {
          host: `127.0.0.1:${port}`,
          origin: "https://evil.example",
          "content-type": "application/json",
          ...auth,
        },
        body: "{}",
      });
      assert.equal(crossSite.status, 403);
      const fetchSite = await rawRequest(base, list, {
        headers: { host: `127.0.0.1:${port}`, "sec-fetch-site": "cross-site", ...auth },
      });
      assert.equal(fetchSite.status, 403);
      const replays = origin.seen.length;
      const formPost = await rawRequest(base, `${list}/${postId}/replay`, {
        method: "POST",
        headers: {
          host: `127.0.0.1:${port}`,
          "content-type": "application/x-www-form-urlencoded",
          ...auth,
        },
        body: "a=b",
      });
      assert.equal(formPost.status, 415);
      assert.equal(origin.seen.length, replays, "refused replays never reach the origin");

      const noToken = await rawRequest(base, list, { headers: { host: `127.0.0.1:${port}` } });
      assert.equal(noToken.status, 401);
      const wrong = await rawRequest(base, list, {
        headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${"x".repeat(32)}` },
      });
      assert.equal(wrong.status, 401);
      const page = await rawRequest(base, "/", { headers: { host: `127.0.0.1:${port}` } });
      assert.equal(page.status, 401, "the page itself needs the token");
      assert.equal(
        (await rawRequest(base, "/?token=nope", { headers: { host: `127.0.0.1:${port}` } }))
          .status,
        401,
      );

      // The printed URL trades its token for a cookie that only this inspector's port uses.
      const entry = await rawRequest(base, `/?token=${token}`, {
        headers: { host: `127.0.0.1:${port}` },
      });
      assert.equal(entry.status, 303);
      assert.equal(entry.headers.location, "/");
      const cookie = String(entry.headers["set-cookie"]).split(";")[0];
      assert.match(String(entry.headers["set-cookie"]), /HttpOnly/);
      assert.match(String(entry.headers["set-cookie"]), /SameSite=Strict/);
      const withCookie = await rawRequest(base, "/", {
        headers: { host: `127.0.0.1:${port}`, cookie },
      });
      assert.equal(withCookie.status, 200);
      assert.match(withCookie.body, /datumctl <span>inspector<\/span>/);
      assert.match(String(withCookie.headers["content-security-policy"]), /default-src 'none'/);
    });

    await t.step("tunnel inspect --name finds the running inspector", async () => {
      const res = await runCli(["tunnel", "inspect", "--name", "insp"], { home, env });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout.trim(), url.href);
      const json = await runCli(["tunnel", "inspect", "--name", "insp", "-o", "json"], {
        home,
        env,
      });
      assert.equal(JSON.parse(json.stdout).address, base);
      const record = `${home}/.local/share/datumctl/connect/insp/inspector.json`;
      assert.equal((await Deno.stat(record)).mode! & 0o777, 0o600);
    });

    await t.step("stopping removes the record; inspect then says it is not running", async () => {
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
      await assert.rejects(
        Deno.stat(`${home}/.local/share/datumctl/connect/insp/inspector.json`),
        Deno.errors.NotFound,
      );
      await assert.rejects(fetch(`${base}/api/requests`, { headers: auth }));
      const res = await runCli(["tunnel", "inspect", "--name", "insp"], { home, env });
      assert.equal(res.code, 64, res.stderr);
      assert.match(res.stderr, /named tunnel insp is not running/);
    });

    await t.step("a detached tunnel's inspector is found with tunnel inspect", async () => {
      // An explicit address: a port free right now.
      const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = probe.addr.port;
      probe.close();
      const started = await runCli(
        ["tunnel", "listen", String(origin.port), "--name", "bg", "--detach", `--inspect=${port}`],
        { home, env },
      );
      assert.equal(started.code, 0, started.stderr);
      assert.match(started.stderr, /datumctl tunnel inspect --name bg/);
      assert.doesNotMatch(started.stdout + started.stderr, /token=/, "the token is not printed");
      try {
        const res = await runCli(["tunnel", "inspect", "--name", "bg"], { home, env });
        assert.equal(res.code, 0, res.stderr);
        const found = new URL(res.stdout.trim());
        assert.equal(found.host, `127.0.0.1:${port}`);
        const list = await fetch(`${found.origin}/api/requests`, {
          headers: { authorization: `Bearer ${found.searchParams.get("token")}` },
        });
        assert.equal(list.status, 200);
        const { requests } = await list.json();
        assert.ok(requests.length >= 1, "the readiness probes were captured");
      } finally {
        const stop = await runCli(["tunnel", "stop", "--name", "bg"], { home, env });
        assert.equal(stop.code, 0, stop.stderr);
      }
    });
  } finally {
    listener.signal("SIGKILL");
    await listener.exited().catch(() => {});
    await origin.close();
    await stack.stop();
  }
});
