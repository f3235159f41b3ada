/**
 * Background named tunnels end to end on the local stack, as an
 * operator would: `listen --detach` → `ps` shows it → a visitor's request through the gateway →
 * `logs` shows the request → it outlives its access token → `stop` → `ps` shows it stopped and the
 * URL no longer serves; then a
 * `kill -9` of the daemon → `ps` reports it dead and `status` says how to recover, and `stop`
 * cleans up.
 */
import assert from "node:assert/strict";
import { runCli } from "./support/cli.ts";
import { storedCredentials } from "./support/auth.ts";
import { startStack } from "./support/stack.ts";
import { loginHome, publicGet, startOrigin, tunnelEnv, waitForPublic } from "./support/tunnel.ts";

interface PsRow {
  name: string;
  state: string;
  pid: number | null;
  hostname: string | null;
  url: string | null;
  tunnel_id: string | null;
  endpoint: string | null;
  project: string | null;
  path: string | null;
  uptime_secs: number | null;
  mode: string | null;
}

Deno.test("a detached named tunnel serves, is listed, logged, stopped; a killed one is reported dead", async () => {
  // Access tokens live 4 s: the daemon must refresh them by itself to keep serving.
  const stack = await startStack({ autoApprove: "alice@example.com", accessTokenTtlSeconds: 4 });
  const origin = startOrigin();
  const pids = new Set<number>();
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    const cli = (args: string[]) => runCli(args, { home, env });
    const ps = async (all = false) => {
      const res = await cli(["tunnel", "ps", ...(all ? ["--all"] : []), "-o", "json"]);
      assert.equal(res.code, 0, res.stderr);
      return JSON.parse(res.stdout) as PsRow[];
    };

    const noName = await cli(["tunnel", "listen", String(origin.port), "--detach"]);
    assert.equal(noName.code, 2, noName.stderr);
    assert.match(noName.stderr, /--detach needs --name/);

    // Detach: the parent waits for ready, prints the URL and exits 0.
    const started = await cli([
      "tunnel",
      "listen",
      String(origin.port),
      "--name",
      "web",
      "--detach",
    ]);
    assert.equal(started.code, 0, started.stderr);
    const url = started.stdout.match(/^Tunnel ready: (https:\/\/\S+)\n$/)?.[1];
    assert.ok(url, `no ready line in ${JSON.stringify(started.stdout)}`);
    assert.match(started.stderr, /runs on alice@example\.com's interactive login/);
    assert.match(started.stderr, /serving in the background \(pid \d+\)/);

    const [row] = await ps();
    assert.equal(row.name, "web");
    assert.equal(row.state, "ready");
    assert.equal(row.mode, "detached");
    assert.equal(row.project, "infra");
    assert.equal(row.url, url);
    assert.equal(row.endpoint, `http://localhost:${origin.port}`);
    assert.ok(row.pid && row.pid !== 0);
    pids.add(row.pid);
    const table = await cli(["tunnel", "ps"]);
    assert.match(
      table.stdout,
      /^NAME\s+PROJECT\s+ENDPOINT\s+HOSTNAME\s+STATE\s+PATH\s+UPTIME\s+PID\n/,
    );
    assert.match(
      table.stdout,
      new RegExp(`\\nweb\\s+infra\\s+http://localhost:${origin.port}\\s+\\S+\\s+ready\\s`),
    );

    // The daemon is in its own session, with no terminal.
    const stat = await Deno.readTextFile(`/proc/${row.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    assert.equal(Number(fields[3]), row.pid, "the daemon leads its own session");

    // A visitor's request is served and shows up in the log.
    const answer = await publicGet(gateway, row.hostname!, "/from-visitor");
    assert.deepEqual(answer, { status: 200, body: "hello from origin /from-visitor\n" });
    let logged = "";
    for (let i = 0; i < 50 && !/"path":"\/from-visitor"/.test(logged); i++) {
      await new Promise((r) => setTimeout(r, 200));
      logged = (await cli(["tunnel", "logs", "--name", "web", "-o", "json"])).stdout;
    }
    const events = logged.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(events.every((e) => e.schema === "datumctl.tunnel.events/v1"));
    assert.ok(events.some((e) => e.type === "ready" && e.url === url));
    const request = events.find((e) => e.type === "request" && e.path === "/from-visitor");
    assert.ok(request, `no request event in the log:\n${logged}`);
    assert.equal(request.method, "GET");
    assert.equal(request.status, 200);
    const human = await cli(["tunnel", "logs", "--name", "web"]);
    assert.match(human.stdout, /ready\s+https:\/\/\S+ after [\d.]+s/);
    assert.match(human.stdout, /request\s+GET \/from-visitor -> 200/);

    // It survives token expiry: the daemon refreshes the login itself and keeps serving.
    const firstToken =
      (await storedCredentials(home, stack, "alice@example.com")).token.access_token;
    let refreshed = firstToken;
    for (let i = 0; i < 100 && refreshed === firstToken; i++) {
      await new Promise((r) => setTimeout(r, 100));
      refreshed = (await storedCredentials(home, stack, "alice@example.com")).token.access_token;
    }
    assert.notEqual(refreshed, firstToken, "the daemon did not refresh its login");
    await new Promise((r) => setTimeout(r, 5_000)); // past the first token's expiry
    assert.deepEqual(await publicGet(gateway, row.hostname!, "/later"), {
      status: 200,
      body: "hello from origin /later\n",
    });

    const status = await cli(["tunnel", "status", "--name", "web"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^Named tunnel: web\nState:\s+ready \(pid \d+, detached, up \d+s\)\nURL:\s+https:/,
    );

    // One process per name: a second start is a name conflict.
    const twice = await cli(["tunnel", "listen", String(origin.port), "--name", "web", "--detach"]);
    assert.equal(twice.code, 64, twice.stderr);
    assert.match(twice.stderr, /named tunnel web is already running/);

    // stop disables the tunnel, then the process ends.
    const stopped = await cli(["tunnel", "stop", "--name", "web"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(
      stopped.stdout,
      new RegExp(`^Stopped named tunnel web; tunnel ${row.tunnel_id} disabled\\.\\n$`),
    );
    assert.deepEqual(await ps(), []);
    const [after] = await ps(true);
    assert.equal(after.state, "stopped");
    const offline = await waitForPublic(gateway, row.hostname!, (a) => a.status === 503);
    assert.equal(offline.status, 503);
    const again = await cli(["tunnel", "stop", "--name", "web"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "Named tunnel web is not running.\n");

    // kill -9: nobody disables the tunnel; ps and status say so, stop recovers.
    const restarted = await cli([
      "tunnel",
      "listen",
      "--id",
      row.tunnel_id!,
      "--name",
      "web",
      "--detach",
      "-o",
      "json",
    ]);
    assert.equal(restarted.code, 0, restarted.stderr);
    const info = JSON.parse(restarted.stdout);
    assert.equal(info.ready, true);
    assert.equal(info.tunnel_id, row.tunnel_id, "resumed by id: same tunnel and hostname");
    pids.add(info.pid);
    await waitForPublic(gateway, row.hostname!, (a) => a.status === 200);
    Deno.kill(info.pid, "SIGKILL");
    let dead: PsRow | undefined;
    for (let i = 0; i < 50 && dead?.state !== "dead"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [dead] = await ps();
    }
    assert.equal(dead?.state, "dead");
    assert.equal(dead?.pid, info.pid);
    const deadStatus = await cli(["tunnel", "status", "--name", "web"]);
    assert.equal(deadStatus.code, 0, deadStatus.stderr);
    assert.match(
      deadStatus.stdout,
      new RegExp(`State:\\s+dead: process ${info.pid} ended without stopping the tunnel`),
    );
    assert.match(
      deadStatus.stdout,
      /To recover: 'datumctl tunnel stop --name web' disables the tunnel/,
    );
    const cleanup = await cli(["tunnel", "stop", "--name", "web", "-o", "json"]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.deepEqual(JSON.parse(cleanup.stdout), {
      name: "web",
      stopped: true,
      pid: info.pid,
      tunnel_id: row.tunnel_id,
      disabled: true,
      was: "dead",
    });
    assert.deepEqual(await ps(), []);
    await waitForPublic(gateway, row.hostname!, (a) => a.status === 503);
  } finally {
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await origin.close();
    await stack.stop();
  }
});

Deno.test("--detach --wait 0 returns at once; a daemon that fails its setup is reported failed", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const pids = new Set<number>();
  try {
    const home = await loginHome(stack, "alice@example.com", "web-app");
    const env = tunnelEnv(stack);
    const cli = (args: string[]) => runCli(args, { home, env });
    const closed = startOrigin();
    const port = closed.port;
    await closed.close();

    const started = await cli([
      "tunnel",
      "listen",
      String(port),
      "--name",
      "api",
      "--detach",
      "--wait",
      "0",
      "--timeout",
      "3s",
    ]);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, "");
    assert.match(
      started.stderr,
      /Named tunnel api is still setting up in the background \(pid \d+.*\)\.\nRun 'datumctl tunnel status --name api' to see when it is ready\.\n$/,
    );
    pids.add(Number(started.stderr.match(/\(pid (\d+)/)![1]));

    let rows: PsRow[] = [];
    for (let i = 0; i < 100 && rows[0]?.state !== "failed"; i++) {
      await new Promise((r) => setTimeout(r, 200));
      rows = JSON.parse((await cli(["tunnel", "ps", "--all", "-o", "json"])).stdout);
    }
    assert.equal(rows[0]?.state, "failed");
    assert.deepEqual(JSON.parse((await cli(["tunnel", "ps", "-o", "json"])).stdout), []);
    const status = await cli(["tunnel", "status", "--name", "api"]);
    assert.match(status.stdout, /State:\s+failed \(exit 75\)/);
    assert.match(status.stdout, /Error:\s+the tunnel was not ready within --timeout/);
    const log = await cli(["tunnel", "logs", "--name", "api", "-o", "json"]);
    const events = log.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const last = events.at(-1);
    assert.deepEqual([last.type, last.exit_code], ["stopped", 75]);
    assert.ok(events.some((e) => e.type === "error" && e.exit_code === 75 && e.retryable));
    const tail = await cli(["tunnel", "logs", "--name", "api", "--tail", "1"]);
    assert.match(tail.stdout, /^\S+ \S+ {2}stopped {4}\w+, exit 75/);
    assert.equal(tail.stdout.split("\n").length, 2, "one line");

    const badWait = await cli([
      "tunnel",
      "listen",
      "1",
      "--name",
      "x",
      "--detach",
      "--wait",
      "soon",
    ]);
    assert.equal(badWait.code, 2, badWait.stderr);
    assert.match(badWait.stderr, /--wait "soon" is not a duration/);
  } finally {
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await stack.stop();
  }
});
