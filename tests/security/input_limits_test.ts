/**
 * Bad input is refused quickly, with the right exit code. A hostile local server answers with
 * endless bodies (token endpoint, OIDC discovery, JWKS, control plane): datumctl stops reading
 * at its cap (1 MiB for sign-in answers, 16 MiB for API answers) and exits 65 instead of running
 * out of memory. Manifests over 10 MiB are refused (65), a YAML alias bomb is bad data (65), not
 * "a bug in datumctl", parsing many documents is linear in their size, and a 100 000-character
 * name is a usage error (2) decided before any request.
 */
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { makeHome, runCli } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import { ApiClient } from "../../lib/api/client.ts";
import { ResponseTooLargeError } from "../../lib/http/capped-body.ts";
import { postTokenRequest } from "../../lib/auth/token-endpoint.ts";
import { identityFromTokenResponse, publicClient } from "../../lib/auth/oidc.ts";
import { parseManifests } from "../../lib/resources/manifests.ts";

/** 400 MB, the token answer that once killed the process. */
const HUGE = 400 * 1024 * 1024;
const CHUNK = new TextEncoder().encode("a".repeat(64 * 1024));

/**
 * A server whose every answer is a JSON document that never ends (400 MB of one string). It
 * counts what it managed to send, so a test can tell that the client stopped reading early.
 */
function startHostileServer() {
  const sent = { bytes: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let pushed = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"access_token":"'));
      },
      pull(controller) {
        if (pushed >= HUGE) return controller.close();
        controller.enqueue(CHUNK);
        pushed += CHUNK.byteLength;
        sent.bytes += CHUNK.byteLength;
      },
    }, { highWaterMark: 1 });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  return { server, sent, url: `http://127.0.0.1:${server.addr.port}` };
}

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function assertBadData(res: { code: number; stderr: string }, pattern: RegExp, what: string) {
  assert.equal(res.code, 65, `${what}: exit ${res.code}\n${res.stderr.slice(0, 800)}`);
  assert.match(res.stderr, pattern, what);
  assert.doesNotMatch(res.stderr, /bug in datumctl|out of memory|\n\s+at /i, what);
}

Deno.test("bad input is refused quickly with the right exit code", async (t) => {
  const hostile = startHostileServer();
  const stack = await startStack();
  try {
    await t.step("a huge token answer (service-account exchange) is exit 65", async () => {
      const home = await makeHome();
      const key = { ...await stack.serviceAccountKeyFile(), token_uri: `${hostile.url}/token` };
      await Deno.writeTextFile(`${home}/key.json`, JSON.stringify(key));
      const before = hostile.sent.bytes;
      const res = await runCli(["get", "connectors", "--project", "infra"], {
        home,
        env: {
          DATUM_CREDENTIALS: `${home}/key.json`,
          DATUM_AUTH_ENDPOINT: hostile.url,
          DATUM_ENDPOINT: hostile.url,
        },
      });
      assertBadData(res, /token endpoint .* is larger than 1 MiB/, "token");
      assert.ok(hostile.sent.bytes - before < 64 * 1024 * 1024, "stopped reading near the cap");
    });

    await t.step("the token endpoint reader stops at 1 MiB", async () => {
      await assert.rejects(
        () => postTokenRequest(`${hostile.url}/token`, { grant_type: "refresh_token" }),
        (err: unknown) => err instanceof ResponseTooLargeError && err.exitCode === 65,
      );
    });

    await t.step("a huge OIDC discovery document at login is exit 65", async () => {
      const res = await runCli([
        "login",
        "--no-browser",
        "--endpoint",
        stack.api,
        "--auth-endpoint",
        `${hostile.url}/issuer`,
        "--client-id",
        "c1",
      ], { home: await makeHome(), env: { DATUMCTL_CREDENTIALS_STORE: "file" } });
      assertBadData(res, /is larger than 1 MiB/, "discovery");
    });

    await t.step("a huge JWKS answer fails the ID-token check with exit 65", async () => {
      const issuer = stack.issuer;
      const as: oauth.AuthorizationServer = {
        issuer,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${hostile.url}/jwks`,
      };
      const now = Math.floor(Date.now() / 1000);
      const idToken = `${b64url({ alg: "RS256", kid: "k1" })}.${
        b64url({ iss: issuer, aud: "c1", sub: "u1", iat: now, exp: now + 300, email: "a@b.c" })
      }.c2lnbmF0dXJl`;
      const response = new Response(
        JSON.stringify({ access_token: "a", token_type: "Bearer", id_token: idToken }),
        { headers: { "content-type": "application/json" } },
      );
      const processed = await oauth.processDeviceCodeResponse(as, publicClient("c1"), response);
      await assert.rejects(
        () => identityFromTokenResponse(as, response, processed),
        (err: unknown) => err instanceof ResponseTooLargeError && err.exitCode === 65,
      );
    });

    await t.step("a huge control-plane answer is exit 65", async () => {
      const before = hostile.sent.bytes;
      const res = await runCli(["get", "connectors", "--project", "infra"], {
        home: await makeHome(),
        env: { DATUM_TOKEN: "opaque-token", DATUM_ENDPOINT: hostile.url },
      });
      assertBadData(res, /is larger than 16 MiB/, "API");
      assert.ok(hostile.sent.bytes - before < 128 * 1024 * 1024, "stopped reading near the cap");

      const api = new ApiClient({
        auth: {
          kind: "DATUM_TOKEN",
          identity: { email: "", subject: "" },
          apiBase: hostile.url,
          tokens: {
            accessToken: () => Promise.resolve("t"),
            expiry: () => Promise.resolve(undefined),
          },
        },
        baseUrl: hostile.url,
      });
      await assert.rejects(
        () => api.get("/api/v1/namespaces/default/configmaps/x"),
        (err: unknown) => err instanceof ResponseTooLargeError && err.exitCode === 65,
      );
    });

    await t.step("manifests over 10 MiB are refused (file and stdin)", async () => {
      const home = await makeHome();
      const big = `# ${"x".repeat(11 * 1024 * 1024)}\n`;
      await Deno.writeTextFile(`${home}/big.yaml`, big);
      const file = await runCli(["apply", "-f", `${home}/big.yaml`], { home });
      assertBadData(file, /big\.yaml is larger than 10 MiB/, "manifest file");
      const stdin = await runCli(["apply", "-f", "-"], { home, stdin: big });
      assertBadData(stdin, /stdin is larger than 10 MiB/, "manifest on stdin");
    });

    await t.step("a YAML alias bomb is bad data (65), not a bug", async () => {
      const home = await makeHome();
      let bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n";
      bomb += "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
      for (let i = 1; i < 10; i++) {
        bomb += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]\n`;
      }
      await Deno.writeTextFile(`${home}/bomb.yaml`, bomb);
      const res = await runCli(["apply", "-f", `${home}/bomb.yaml`], { home });
      assertBadData(res, /bomb\.yaml .*alias/i, "alias bomb");
    });

    await t.step("parsing many documents is linear in their size", () => {
      const manifest = (bytes: number) => {
        const docs: string[] = [];
        for (let size = 0, i = 0; size < bytes; i++) {
          const doc =
            `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n  k: v${i}\n---\n`;
          docs.push(doc);
          size += doc.length;
        }
        return docs.join("");
      };
      const time = (text: string) => {
        const started = performance.now();
        const parsed = parseManifests(text, "many.yaml");
        assert.ok(parsed.length > 1000);
        return performance.now() - started;
      };
      time(manifest(100_000)); // warm up the parser
      const small = time(manifest(250_000));
      const large = time(manifest(2_000_000));
      // 8x the input: about 8x the time when linear, 64x when quadratic (the old line lookup).
      assert.ok(large / small < 24, `8x the input took ${Math.round(large / small)}x the time`);
    });

    await t.step("a 100 000-character name is a usage error before any request", async () => {
      const res = await runCli(["get", "httpproxy", "n".repeat(100_000), "--project", "infra"], {
        home: await makeHome(),
        // Nothing listens here: a network error would be exit 69.
        env: { DATUM_TOKEN: "opaque-token", DATUM_ENDPOINT: "http://127.0.0.1:9" },
      });
      assert.equal(res.code, 2, res.stderr.slice(0, 500));
      assert.match(res.stderr, /^error: "n{40}…" \(100000 characters\) is not a valid name/);
    });
  } finally {
    await stack.stop();
    await hostile.server.shutdown();
  }
});
