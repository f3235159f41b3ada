/**
 * `datumctl version`, run in process: the client version without the network, and with
 * `--server` the build the API's `/version` reports, asked with the login's token.
 */
import assert from "node:assert/strict";
import { json, loggedInEnv, runInProcess } from "../../tests/support/in-process.ts";

Deno.test("version prints the client version and runtime, sending nothing", async () => {
  const result = await runInProcess(["version"], { env: await loggedInEnv() });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Client Version: 0\.0\.0-test\nRuntime: +Deno \d/);
  assert.deepEqual(result.requests, []);
});

Deno.test("version --server -o json adds the server's /version", async () => {
  const seen: Request[] = [];
  const result = await runInProcess(["version", "--server", "-o", "json"], {
    env: await loggedInEnv(),
    fetch: (request) => {
      seen.push(request);
      if (new URL(request.url).pathname === "/version") return json({ gitVersion: "v1.33.1" });
      return json({ kind: "Status", code: 404 }, 404);
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.equal(out.clientVersion.datumctl, "0.0.0-test");
  assert.equal(out.serverVersion.gitVersion, "v1.33.1");
  assert.equal(out.server, "https://api.datum.net");
  assert.deepEqual(result.requests, ["GET https://api.datum.net/version"]);
  assert.equal(seen[0].headers.get("authorization"), "Bearer bench-access-token");
});

Deno.test("version --server with an unreachable API is exit 69 (retryable)", async () => {
  const result = await runInProcess(["version", "--server"], {
    env: await loggedInEnv(),
    fetch: () => {
      throw new TypeError("connection refused");
    },
  });
  assert.equal(result.code, 69);
  assert.match(result.stderr, /cannot reach api\.datum\.net/);
});
