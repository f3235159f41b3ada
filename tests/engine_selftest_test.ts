/**
 * `datumctl tunnel self-test`, the check the release workflow runs on every compiled binary,
 * run here from source against the engine built by `deno task engine` (or `$DATUMCTL_ENGINE`).
 */
import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";

const engineEnv = (): Record<string, string> => {
  const override = Deno.env.get("DATUMCTL_ENGINE");
  return override ? { DATUMCTL_ENGINE: override } : {};
};

Deno.test("tunnel self-test carries a request through a loopback tunnel", async () => {
  const res = await runCli(["tunnel", "self-test", "-o", "json"], {
    home: await makeHome(),
    env: engineEnv(),
  });
  assert.equal(res.code, 0, res.stderr);
  const result = JSON.parse(res.stdout);
  assert.equal(result.status, 200);
  assert.equal(result.platform, `${Deno.build.os}-${Deno.build.arch}`);
  assert.match(result.endpointId, /^[0-9a-f]{64}$/);
});

Deno.test("tunnel self-test is hidden from the tunnel help", async () => {
  const res = await runCli(["tunnel", "--help"], { home: await makeHome() });
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stdout, /self-test/);
});

Deno.test("without an engine, self-test names the platform and exits 78", async () => {
  const res = await runCli(["tunnel", "self-test"], {
    home: await makeHome(),
    env: { DATUMCTL_ENGINE: "/nonexistent/datumctl_engine.node" },
  });
  assert.equal(res.code, 78);
  assert.match(res.stderr, /^error: The tunnel engine named by DATUMCTL_ENGINE does not exist/);
});
