/**
 * `datumctl ctx`, run in process on a HOME with one login and a fresh context cache: the
 * listing comes from the cache (no HTTP request), `ctx current` names the current context and
 * `ctx use` switches it in the config file.
 */
import assert from "node:assert/strict";
import { loggedInEnv, runInProcess } from "../../tests/support/in-process.ts";

Deno.test("ctx lists the cached contexts, the current one starred, without the network", async () => {
  const env = await loggedInEnv();
  const result = await runInProcess(["ctx"], { env });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^ORGANIZATION\s+PROJECT\s+TYPE\s+CURRENT$/);
  assert.match(lines[1], /^ACME Corp \(acme-corp\)\s+org$/);
  assert.match(lines[2], /^ACME Corp \(acme-corp\)\s+Infra \(infra\)\s+project\s+\*$/);
  assert.deepEqual(result.requests, []);
});

Deno.test("ctx -o json prints the same contexts as data", async () => {
  const result = await runInProcess(["ctx", "-o", "json"], { env: await loggedInEnv() });
  assert.equal(result.code, 0, result.stderr);
  const views = JSON.parse(result.stdout) as { current?: boolean }[];
  assert.equal(views.length, 2);
  assert.equal(views.filter((v) => v.current).length, 1);
});

Deno.test("ctx use switches the current context, and ctx current shows it", async () => {
  const env = await loggedInEnv();
  assert.equal((await runInProcess(["ctx", "current"], { env })).stdout, "acme-corp/infra\n");
  const use = await runInProcess(["ctx", "use", "acme-corp"], { env });
  assert.equal(use.code, 0, use.stderr);
  assert.equal((await runInProcess(["ctx", "current"], { env })).stdout, "acme-corp\n");
  const config = await Deno.readTextFile(`${env.HOME}/.datumctl/config`);
  assert.match(config, /current-context: alice@example\.com@api\.datum\.net\/acme-corp\n/);
});

Deno.test("ctx with no login is exit 77 with a hint", async () => {
  const home = await Deno.makeTempDir({ prefix: "datumctl-inproc-" });
  const result = await runInProcess(["ctx"], { env: { HOME: home } });
  assert.equal(result.code, 77);
  assert.match(result.stderr, /datumctl login/);
});
