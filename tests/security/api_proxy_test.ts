/**
 * `api proxy` holds the user's token, so it must not act for a web page on another site (a
 * confused deputy): a cross-site `POST` with `Content-Type: text/plain` (which any page can send
 * without a CORS preflight) once created an HTTPProxy as the user. It refuses requests whose
 * `Origin` is another site's or whose `Sec-Fetch-Site` is `cross-site`/`same-site`, write bodies
 * that are not JSON or YAML, paths that normalise to another resource, and a non-local `Host`.
 */
import assert from "node:assert/strict";
import {
  assertSucceeded,
  cliCommand,
  isolatedEnv,
  makeHome,
  readUntil,
  runCli,
} from "../support/cli.ts";
import { loginFlags, tokenAuth } from "../support/auth.ts";
import { startStack } from "../support/stack.ts";
import { ApiClient } from "../../lib/api/client.ts";
import { projectControlPlaneUrl } from "../../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";

function proxyJson(name: string): string {
  return JSON.stringify({
    apiVersion: "networking.datumapis.com/v1alpha",
    kind: "HTTPProxy",
    metadata: { name },
    spec: { rules: [{ backends: [{ endpoint: "https://example.com" }] }] },
  });
}

/** One raw HTTP/1.1 exchange, so the path and Host go out exactly as written. */
async function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = { host: `127.0.0.1:${port}`, connection: "close", ...headers };
  if (body) {
    Object.assign(head, { "content-length": String(new TextEncoder().encode(body).length) });
  }
  const lines = Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await conn.write(new TextEncoder().encode(`${method} ${path} HTTP/1.1\r\n${lines}\r\n${body}`));
  const text = await new Response(conn.readable).text();
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), text };
}

Deno.test("api proxy is not a confused deputy", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  const api = new ApiClient({
    auth: await tokenAuth(stack, "alice@example.com"),
    baseUrl: projectControlPlaneUrl(stack.api, "infra"),
  });
  const remaining = async () =>
    (await api.list<{ metadata: { name: string } }>(PROXIES)).items.map((o) => o.metadata.name)
      .sort();
  let child: Deno.ChildProcess | undefined;
  try {
    assertSucceeded(
      await runCli(["login", ...loginFlags(stack), "--no-browser"], { home, env: STORE }),
      "login",
    );
    await api.create(PROXIES, JSON.parse(proxyJson("keep-a")));
    await api.create(PROXIES, JSON.parse(proxyJson("keep-b")));

    child = new Deno.Command(cliCommand()[0], {
      args: [...cliCommand().slice(1), "api", "proxy", "--project", "infra", "-q"],
      env: isolatedEnv(home, STORE),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const out = { text: "" };
    await readUntil(child.stdout.pipeThrough(new TextDecoderStream()).getReader(), out, /\n/);
    const port = Number(new URL(out.text.trim()).port);

    await t.step("a cross-site text/plain POST is refused and creates nothing", async () => {
      const res = await raw(port, "POST", PROXIES, {
        origin: "https://evil.example",
        "content-type": "text/plain",
      }, proxyJson("evil"));
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, /x-datum-proxy-error: true/i);
      assert.match(res.text, /web pages on other sites/);
      assert.deepEqual(await remaining(), ["keep-a", "keep-b"]);
    });

    await t.step("another site's Origin or Sec-Fetch-Site is refused, even with JSON", async () => {
      for (
        const headers of [
          { origin: "https://evil.example" },
          { origin: "null" },
          { origin: `http://localhost:${port + 1}` },
          { "sec-fetch-site": "cross-site" },
          { "sec-fetch-site": "same-site" },
        ] as Record<string, string>[]
      ) {
        const post = await raw(port, "POST", PROXIES, {
          ...headers,
          "content-type": "application/json",
        }, proxyJson("evil"));
        assert.equal(post.status, 403, `${JSON.stringify(headers)}: ${post.text}`);
        const get = await raw(port, "GET", PROXIES, headers);
        assert.equal(get.status, 403, `GET ${JSON.stringify(headers)}`);
        assert.doesNotMatch(get.text, /keep-a/);
      }
      assert.deepEqual(await remaining(), ["keep-a", "keep-b"]);
    });

    await t.step("write bodies that are not JSON or YAML are refused (415)", async () => {
      for (
        const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
      ) {
        const res = await raw(port, "POST", PROXIES, { "content-type": type }, proxyJson("evil"));
        assert.equal(res.status, 415, `${type}: ${res.text}`);
        assert.match(res.text, /only forwards JSON or YAML write bodies/);
      }
      const noType = await raw(port, "PUT", `${PROXIES}/keep-a`, {}, proxyJson("keep-a"));
      assert.equal(noType.status, 415, noType.text);
      assert.deepEqual(await remaining(), ["keep-a", "keep-b"]);
    });

    await t.step("same-origin and non-browser requests still work", async () => {
      const created = await raw(port, "POST", PROXIES, {
        "content-type": "application/json",
        "sec-fetch-site": "same-origin",
      }, proxyJson("allowed"));
      assert.equal(created.status, 201, created.text);
      const own = await raw(port, "GET", PROXIES, {
        origin: `http://127.0.0.1:${port}`,
        "sec-fetch-site": "none",
      });
      assert.equal(own.status, 200, own.text);
      assert.match(own.text, /allowed/);
      const patched = await raw(port, "PATCH", `${PROXIES}/allowed`, {
        "content-type": "application/merge-patch+json; charset=utf-8",
      }, JSON.stringify({ metadata: { labels: { ok: "yes" } } }));
      assert.equal(patched.status, 200, patched.text);
      const deleted = await raw(port, "DELETE", `${PROXIES}/allowed`);
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual(await remaining(), ["keep-a", "keep-b"]);
    });

    await t.step("paths that normalise to another resource are refused (400)", async () => {
      for (
        const path of [
          `${PROXIES}/.`,
          `${PROXIES}/..`,
          `${PROXIES}/%2e`,
          `${PROXIES}/%2E%2E`,
          `${PROXIES}/.%2e/`,
          `${PROXIES}/a%2Fb`,
          `${PROXIES}/..\\keep-a`,
          `${PROXIES}/keep-a/../keep-b`,
        ]
      ) {
        const del = await raw(port, "DELETE", path);
        assert.equal(del.status, 400, `DELETE ${path}: ${del.text}`);
        assert.match(del.text, /names are data, not paths/);
        const get = await raw(port, "GET", path);
        assert.equal(get.status, 400, `GET ${path}`);
      }
      assert.deepEqual(await remaining(), ["keep-a", "keep-b"]);
    });

    await t.step("a request for another Host is still refused", async () => {
      const res = await raw(port, "GET", PROXIES, { host: "evil.example.com" });
      assert.equal(res.status, 403);
      assert.doesNotMatch(res.text, /keep-a/);
    });

    await t.step("its help says what it protects against", async () => {
      const help = await runCli(["api", "proxy", "--help"], { home });
      assertSucceeded(help, "api proxy --help");
      assert.match(help.stdout, /Origin/);
      assert.match(help.stdout, /Sec-Fetch-Site/);
      assert.match(help.stdout, /JSON or YAML/);
      assert.match(help.stdout, /'\.' or '\.\.'/);
    });
  } finally {
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    await stack.stop();
  }
});
