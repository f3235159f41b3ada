import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";

Deno.test("--version prints datumctl and the version from deno.json", async () => {
  const home = await makeHome();
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const res = await runCli(["--version"], { home });
  assert.equal(res.code, 0);
  assert.equal(res.stdout.trim(), `datumctl ${denoJson.version}`);
});

Deno.test("--help lists the exit codes", async () => {
  const res = await runCli(["--help"], { home: await makeHome() });
  assert.equal(res.code, 0);
  assert.match(res.stdout, /Usage: datumctl/);
  assert.match(res.stdout, /77\s+not authenticated/);
});

Deno.test("an unknown flag is one line and a hint, exit 2", async () => {
  const res = await runCli(["--bogus"], { home: await makeHome() });
  assert.equal(res.code, 2);
  const lines = res.stderr.trim().split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^error: unknown option '--bogus'/);
  assert.match(lines[1], /datumctl --help/);
});

Deno.test("--error-format json prints one JSON error line", async () => {
  const res = await runCli(["--bogus", "--error-format", "json"], { home: await makeHome() });
  assert.equal(res.code, 2);
  const parsed = JSON.parse(res.stderr.trim());
  assert.equal(parsed.error.code, "USAGE");
  assert.equal(parsed.error.retryable, false);
  assert.match(parsed.error.hint, /--help/);
});

Deno.test("a mistyped command is one line, with the suggestion and the right help in the hint", async () => {
  const res = await runCli(["tunnel", "listne"], { home: await makeHome() });
  assert.equal(res.code, 2);
  const lines = res.stderr.trim().split("\n");
  assert.deepEqual(lines, [
    "error: unknown command 'listne'",
    "Did you mean listen? Run 'datumctl tunnel --help' for usage.",
  ]);
});
