/**
 * The tunnel commands as a new user meets them on the local stack, with no tunnel-specific
 * environment: `listen --endpoint PORT` works and finds the stack's gateway by itself (no
 * DATUMCTL_TUNNEL_GATEWAY), `ps` lists an unnamed foreground listen, `list` says a disabled
 * tunnel is disabled, `listen --name N` labels its tunnel N, `status|logs|stop` take the name as
 * an argument and exit 64 for an unknown one, `logs` takes `--tail`/`--lines` (not `-n`), and
 * `list` in a project the user cannot see fails like `get`, and in a project that does not exist
 * lists empty (Datum serves any project id) while `listen` says the project is missing (64).
 */
import assert from "node:assert/strict";
import { assertSucceeded, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { loginHome, startListener, startOrigin, tunnelEnv } from "./support/tunnel.ts";

Deno.test("tunnel commands for a new user on the local stack", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    assert.ok(stack.gateway, "the local stack runs a gateway (the engine is built)");
    const home = await loginHome(stack, "alice@example.com");
    // What a new user has: no DATUMCTL_TUNNEL_GATEWAY.
    const env = tunnelEnv(stack);
    delete env.DATUMCTL_TUNNEL_GATEWAY;
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      runCli(args, { home, env: { ...env, ...extra } });

    await t.step(
      "listen --endpoint PORT is ready through the stack's gateway, found by itself",
      async (s) => {
        const origin = startOrigin();
        const listener = startListener(home, [
          "--endpoint",
          String(origin.port),
          "-o",
          "json",
          "--timeout",
          "45s",
        ], env);
        try {
          const ready = await listener.waitForEvent((e) => e.type === "ready", 60_000);
          assert.equal(ready.endpoint, `http://localhost:${origin.port}`);
          const checked = listener.events.find((e) =>
            e.type === "verify" && e.side === "public" && e.reachable
          );
          assert.ok(checked, "the public URL was verified");
          assert.ok(origin.requests > 0, "the public check reached the origin through the tunnel");

          await s.step("ps lists the running unnamed listen", async () => {
            const ps = await cli(["tunnel", "ps", "-o", "json"]);
            assert.equal(ps.code, 0, ps.stderr);
            const rows = JSON.parse(ps.stdout) as Record<string, unknown>[];
            const row = rows.find((r) => r.name === null);
            assert.ok(row, ps.stdout);
            assert.equal(row.state, "ready");
            assert.equal(row.mode, "foreground");
            assert.equal(row.project, "infra");
            assert.equal(row.endpoint, `http://localhost:${origin.port}`);
            assert.equal(row.hostname, ready.hostnames[0]);
            assert.equal(row.tunnel_id, ready.id);
            assert.ok(typeof row.pid === "number" && row.pid > 0);
            const table = await cli(["tunnel", "ps"]);
            assert.match(
              table.stdout,
              new RegExp(
                `^\\(unnamed\\) +infra +http://localhost:${origin.port} +\\S+ +ready `,
                "m",
              ),
            );
          });

          listener.signal("SIGINT");
          assert.equal(await listener.exited(), 0, listener.stderr());

          await s.step("after Ctrl-C it is gone from ps", async () => {
            const ps = await cli(["tunnel", "ps", "--all", "-o", "json"]);
            assert.deepEqual(JSON.parse(ps.stdout), []);
            const text = await cli(["tunnel", "ps"]);
            assert.equal(text.stdout, "");
            assert.match(text.stderr, /No tunnels running/);
          });

          await s.step("list shows the disabled tunnel as disabled, not ready", async () => {
            const list = await cli(["tunnel", "list"]);
            assert.equal(list.code, 0, list.stderr);
            assert.match(list.stdout, new RegExp(`^${ready.id} \\[disabled\\] `, "m"));
            assert.match(list.stdout, /status: disabled, not serving/);
            assert.doesNotMatch(list.stdout, /ready/);
            const [entry] = JSON.parse((await cli(["tunnel", "list", "-o", "json"])).stdout);
            assert.equal(entry.enabled, false);
          });

          await s.step("update --endpoint PORT means localhost:PORT too", async () => {
            const res = await cli([
              "tunnel",
              "update",
              "--id",
              ready.id,
              "--endpoint",
              String(origin.port + 1),
              "-o",
              "json",
            ]);
            assert.equal(res.code, 0, res.stderr);
            assert.equal(JSON.parse(res.stdout).endpoint, `http://localhost:${origin.port + 1}`);
          });
        } finally {
          listener.signal("SIGKILL");
          await listener.exited().catch(() => {});
          await origin.close();
        }
      },
    );

    await t.step("a named tunnel: its label is its name; status|logs|stop NAME", async () => {
      const origin = startOrigin();
      try {
        const started = await cli([
          "tunnel",
          "listen",
          String(origin.port),
          "--name",
          "web",
          "--detach",
          "--wait",
          "60s",
          "-o",
          "json",
        ]);
        assert.equal(started.code, 0, started.stderr);
        const summary = JSON.parse(started.stdout);
        assert.equal(summary.ready, true, started.stdout);

        const [tunnel] = JSON.parse(
          (await cli(["tunnel", "list", "--name", "web", "-o", "json"]))
            .stdout,
        );
        assert.equal(tunnel.id, summary.tunnel_id);
        assert.equal(tunnel.label, "web");

        const status = await cli(["tunnel", "status", "web", "-o", "json"]);
        assert.equal(status.code, 0, status.stderr);
        assert.equal(JSON.parse(status.stdout).state, "ready");

        for (const flag of ["--tail", "--lines"]) {
          const logs = await cli(["tunnel", "logs", "web", flag, "2", "-o", "json"]);
          assert.equal(logs.code, 0, logs.stderr);
          const lines = logs.stdout.trim().split("\n");
          assert.equal(lines.length, 2, `${flag}: ${logs.stdout}`);
          for (const line of lines) JSON.parse(line);
        }
        const n = await cli(["tunnel", "logs", "web", "-n", "2"]);
        assert.equal(n.code, 2, n.stderr);
        assert.match(n.stderr, /-n means --namespace/);
        assert.match(n.stderr, /--tail 2/);
        const both = await cli(["tunnel", "logs", "web", "--name", "other"]);
        assert.equal(both.code, 2, both.stderr);

        const stop = await cli(["tunnel", "stop", "web"]);
        assert.equal(stop.code, 0, stop.stderr);
        assert.match(stop.stdout, /Stopped named tunnel web/);
        const again = await cli(["tunnel", "stop", "web"]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /Named tunnel web is not running/);
      } finally {
        await cli(["tunnel", "stop", "web"]);
        await origin.close();
      }
    });

    await t.step("an unknown name exits 64 for stop, status and logs alike", async () => {
      for (const verb of ["stop", "status", "logs"]) {
        for (const args of [[verb, "nope"], [verb, "--name", "nope"]]) {
          const res = await cli(["tunnel", ...args]);
          assert.equal(res.code, 64, `${args.join(" ")}: ${res.stdout}${res.stderr}`);
          assert.match(res.stderr, /^error: named tunnel nope has never run here$/m);
          assert.match(res.stderr, /'datumctl tunnel ps --all' lists the names/);
        }
      }
    });

    await t.step("list in a project the user cannot see fails as get does (77)", async () => {
      // bob is in acme-corp only: personal's sandbox exists but is not his.
      await stack.setAutoApprove("bob@example.com");
      const bob = await loginHome(stack, "bob@example.com");
      const as = (args: string[]) =>
        runCli(args, { home: bob, env: { ...env, DATUM_PROJECT: "sandbox" } });
      const get = await as(["get", "httpproxies"]);
      const list = await as(["tunnel", "list"]);
      assert.equal(get.code, 77, get.stderr);
      assert.equal(list.code, 77, list.stdout + list.stderr);
      assert.equal(list.stdout, "");
      // Each names the refusal of its own first request (the real server words them per
      // resource), with the same hint.
      for (const res of [get, list]) {
        assert.match(res.stderr, /^error: .*forbidden: User "bob@example\.com" cannot /m);
        assert.match(res.stderr, /Check the context with 'datumctl whoami'/);
      }
    });

    await t.step(
      "a project that does not exist lists empty, as Datum serves it; listen says it is missing (64)",
      async () => {
        const get = await cli(["get", "httpproxies"], { DATUM_PROJECT: "nope" });
        assertSucceeded(get, "get in an unknown project");
        assert.match(get.stdout + get.stderr, /No resources found/);
        const list = await cli(["tunnel", "list"], { DATUM_PROJECT: "nope" });
        assertSucceeded(list, "tunnel list in an unknown project");
        assert.match(list.stdout, /No tunnels found/);
        const listen = await cli(["tunnel", "listen", "--endpoint", "8080"], {
          DATUM_PROJECT: "nope",
        });
        assert.equal(listen.code, 64, listen.stdout + listen.stderr);
        assert.match(
          listen.stderr,
          /^error: project "nope" does not exist \(it has no namespace "default"\)\nRun 'datumctl ctx' to list the projects you can use\.$/m,
        );
      },
    );
  } finally {
    await stack.stop();
  }
});
