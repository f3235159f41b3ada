import assert from "node:assert/strict";
import { cliCommand, isolatedEnv, makeHome, runCli } from "./support/cli.ts";

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

Deno.test("bare datumctl shows a landing page: not logged in, then who and where", async () => {
  const home = await makeHome();
  const before = await runCli([], { home });
  assert.equal(before.code, 0);
  assert.match(before.stdout, /You are not logged in\./);
  assert.match(before.stdout, /datumctl login --no-browser/);

  await Deno.mkdir(`${home}/.datumctl`, { recursive: true });
  const session = "alice@example.com@api.example.test";
  await Deno.writeTextFile(
    `${home}/.datumctl/config`,
    JSON.stringify({
      apiVersion: "datumctl.config.datum.net/v1beta1",
      kind: "DatumctlConfig",
      sessions: [{
        name: session,
        "user-key": "alice@example.com@auth.example.test",
        "user-email": "alice@example.com",
        "user-name": "Alice Example",
        endpoint: { server: "https://api.example.test", "auth-hostname": "auth.example.test" },
      }],
      contexts: [
        { name: `${session}/acme-corp`, session, "organization-id": "acme-corp" },
        {
          name: `${session}/acme-corp/infra`,
          session,
          "organization-id": "acme-corp",
          "project-id": "infra",
          namespace: "default",
        },
      ],
      "current-context": `${session}/acme-corp/infra`,
      "active-session": session,
      cache: {
        organizations: [{ id: "acme-corp", "display-name": "ACME Corp", session }],
        projects: [{ id: "infra", "display-name": "Infra", "org-id": "acme-corp", session }],
      },
    }),
  );
  const after = await runCli([], { home });
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /Logged in as Alice Example \(alice@example\.com\)/);
  assert.match(after.stdout, /Context: +acme-corp\/infra \(project Infra in ACME Corp\)/);
  assert.match(after.stdout, /1 organization, 1 project/);
});

Deno.test("a reader that stops early (`| true`) is not an error: no message, exit 0", async () => {
  const home = await makeHome();
  const cli = cliCommand().map((part) => `'${part}'`).join(" ");
  const script = `${cli} tunnel --help 2>"$ERR_FILE" | true; echo "\${PIPESTATUS[0]}"`;
  const errFile = `${home}/stderr`;
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    env: isolatedEnv(home, { ERR_FILE: errFile }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "0");
  assert.equal(await Deno.readTextFile(errFile), "");
});
