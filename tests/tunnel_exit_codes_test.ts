/**
 * Every exit code the tunnel commands document (`datumctl tunnel --help`, README "Exit codes"),
 * produced on the local stack, so a supervisor can rely on the table: 0, 1, 2, 64, 65, 69, 75,
 * 77 and 78. (tests/tunnel_faults_test.ts produces 77 and 78 mid-run as well; this file keeps
 * the whole table in one place.)
 */
import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { loginHome, startOrigin, tunnelEnv } from "./support/tunnel.ts";

Deno.test("the tunnel commands' documented exit codes", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    const cli = (args: string[], options: { home?: string; env?: Record<string, string> } = {}) =>
      runCli(args, { home: options.home ?? home, env: { ...env, ...options.env } });

    const help = await cli(["tunnel", "--help"]);
    const documented = [...help.stdout.matchAll(/^ {2}(\d+) {2,}/gm)].map((m) => Number(m[1]));
    assert.deepEqual(documented, [0, 1, 2, 64, 65, 69, 75, 77, 78]);

    await t.step(
      "the table is printed once, in 'tunnel --help'; subcommands point to it",
      async () => {
        const section = help.stdout.split(/^Commands:$/m)[1]?.split(/\n\n/)[0] ?? "";
        const commands = [...section.matchAll(/^ {2}([a-z]+)(?:\|[a-z]+)? /gm)]
          .map((m) => m[1])
          .filter((name) => name !== "help");
        assert.ok(commands.includes("listen") && commands.includes("stop"), commands.join(" "));
        for (const name of commands) {
          const sub = await cli(["tunnel", name, "--help"]);
          assert.equal(sub.code, 0, `${name}: ${sub.stderr}`);
          const pointers = sub.stdout.match(/^Exit codes: see 'datumctl tunnel --help'.*$/gm) ?? [];
          assert.equal(pointers.length, 1, `tunnel ${name} --help points to the table once`);
          assert.doesNotMatch(
            sub.stdout,
            /Exit codes \(sysexits/,
            `tunnel ${name} repeats the table`,
          );
          assert.doesNotMatch(sub.stdout, /A supervisor should restart/, `tunnel ${name}`);
          assert.doesNotMatch(sub.stdout, /^ {2}0 {2,}success/m, `tunnel ${name}`);
        }
      },
    );

    await t.step("0: success", async () => {
      const res = await cli(["tunnel", "ps", "-o", "json"]);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout), []);
    });

    await t.step("1: generic error (no project selected anywhere)", async () => {
      // Logged in through the environment, so the missing context is the error (not the login).
      const res = await cli(["tunnel", "list"], {
        home: await makeHome(),
        env: { DATUM_TOKEN: "any-token" },
      });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /No context set\. Run 'datumctl ctx use' to select a project\./);
    });

    await t.step("2: misuse (invalid flags, missing or conflicting options)", async () => {
      for (
        const args of [
          ["tunnel", "listen", "8080", "--detach"],
          ["tunnel", "listen", "8080", "--endpoint", "9090"],
          ["tunnel", "listen", "8080", "--name", "Not_A_Name"],
          ["tunnel", "stop"],
          ["tunnel", "logs", "--name", "web", "--tail", "x"],
          ["tunnel", "list", "--bogus"],
        ]
      ) {
        const res = await cli(args);
        assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
        assert.doesNotMatch(res.stderr, /\n\s+at /, "no stack trace");
      }
    });

    await t.step("64: rejected on meaning (no such tunnel, a name already served)", async () => {
      const gone = await cli(["tunnel", "delete", "--id", "tunnel-nosuch"]);
      assert.equal(gone.code, 64, gone.stderr);
      const never = await cli(["tunnel", "status", "--name", "never-ran"]);
      assert.equal(never.code, 64, never.stderr);
      assert.match(never.stderr, /named tunnel never-ran has never run here/);
      const stop = await cli(["tunnel", "stop", "--name", "never-ran"]);
      assert.equal(stop.code, 64, stop.stderr);
      assert.match(stop.stderr, /named tunnel never-ran has never run here/);
    });

    await t.step("65: a malformed local file is reported and left alone", async () => {
      const repo = `${home}/bad-repo`;
      await Deno.mkdir(repo, { recursive: true });
      const text = "proxies: {not: [a list\n";
      await Deno.writeTextFile(`${repo}/state.yml`, text);
      const origin = startOrigin();
      try {
        const res = await cli(["tunnel", "listen", String(origin.port), "--timeout", "20s"], {
          env: { DATUM_CONNECT_REPO: repo },
        });
        assert.equal(res.code, 65, res.stderr);
        assert.match(res.stderr, new RegExp(`cannot read ${repo}/state\\.yml line \\d`));
        assert.equal(await Deno.readTextFile(`${repo}/state.yml`), text);
      } finally {
        await origin.close();
      }
    });

    await t.step("69: control plane unreachable (retryable)", async () => {
      // A login whose control plane then goes away.
      const other = await startStack({ autoApprove: "alice@example.com" });
      const orphan = await loginHome(other, "alice@example.com");
      await other.stop();
      const res = await cli(["tunnel", "delete", "--id", "tunnel-x", "--error-format", "json"], {
        home: orphan,
        env: tunnelEnv(other),
      });
      assert.equal(res.code, 69, res.stderr);
      assert.equal(JSON.parse(res.stderr).error.retryable, true);
    });

    await t.step("75: setup not finished within --timeout (retryable)", async () => {
      const closed = startOrigin();
      const port = closed.port;
      await closed.close();
      const res = await cli(["tunnel", "listen", String(port), "--timeout", "3s"], {
        home: await loginHome(stack, "alice@example.com", "billing-api"),
      });
      assert.equal(res.code, 75, res.stderr);
    });

    await t.step("77: not logged in", async () => {
      const res = await cli(["tunnel", "list", "--project", "infra"], { home: await makeHome() });
      assert.equal(res.code, 77, res.stderr);
      assert.match(res.stderr, /datumctl login/);
    });

    await t.step("78: configuration (no tunnel engine for this platform)", async () => {
      const res = await cli(["tunnel", "listen", "8080", "--timeout", "20s"], {
        env: { DATUMCTL_ENGINE: "/nonexistent/datumctl_engine.node" },
      });
      assert.equal(res.code, 78, res.stderr);
      assert.match(res.stderr, /tunnel engine/);
    });
  } finally {
    await stack.stop();
  }
});
