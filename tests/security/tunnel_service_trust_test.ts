/**
 * An installed tunnel service trusts only its definition, which its install command line wrote.
 * Peers: `tunnel install --allow-peer ID` (repeatable, or `DATUMCTL_TUNNEL_ALLOWED_PEERS` at
 * install time) is kept in `services/<name>.yaml` as `allow_peers`, shown by `--dry-run`, and
 * `tunnel run --name` refuses every other iroh peer; a malformed id (also one of the right
 * length that is no Ed25519 key) is exit 2 with nothing written. Targets: after another project member edits the tunnel's HTTPProxy backend, a running
 * service keeps serving only the definition's endpoint (the edge gets 403), and a restarted
 * one stops with exit 64 `TUNNEL_RETARGETED` (which the unit does not restart); neither ever
 * dials the edited target, a trap port that counts every connection.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { runCli } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import { fakeSystemctl } from "../support/fake-systemctl.ts";
import {
  editBackend,
  type Listener,
  loginHome,
  projectApi,
  publicGet,
  startConnectionTrap,
  startOrigin,
  startTunnelProcess,
  tunnelEnv,
  waitForPublic,
} from "../support/tunnel.ts";
import { pathExists } from "../../lib/store/files.ts";
import { requestViaGateway } from "../../local/gateway.ts";

/** An endpoint id (of the secret key of 32 bytes of 7) that no peer of the local stack has. */
const STRANGER = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";

Deno.test("an installed service serves only its definition's peers and target", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  const trap = startConnectionTrap();
  const fake = await fakeSystemctl();
  let run: Listener | undefined;
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const edge = stack.gatewayEndpointId!;
    assert.match(edge, /^[0-9a-f]{64}$/);
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack, {
      PATH: `${fake.bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      FAKE_SYSTEMCTL_LOG: fake.log,
    });
    const definitionPath = (n: string) => `${home}/.datumctl/services/${n}.yaml`;
    const unitPath = (n: string) =>
      `${home}/.config/systemd/user/datumctl-connect-user-${n}.service`;
    const install = (args: string[], extra: Record<string, string> = {}) =>
      runCli(["tunnel", "install", ...args], { home, env: { ...env, ...extra } });
    const startRun = (name: string) =>
      startTunnelProcess(home, ["tunnel", "run", "--name", name], env);
    // Bob is another member of the project: he may edit any HTTPProxy in it.
    const bob = await projectApi(stack, "bob@example.com", "infra");

    await t.step("a malformed --allow-peer is a usage error (2); nothing is written", async () => {
      for (
        const [args, extra] of [
          [["--allow-peer", "abc"], {}],
          [["--allow-peer", edge, "--allow-peer", `${edge}00`], {}],
          [[], { DATUMCTL_TUNNEL_ALLOWED_PEERS: `${edge},nope` }],
          // The right length but no Ed25519 key: the engine would fail at every start.
          [["--allow-peer", "5e".repeat(32)], {}],
        ] as [string[], Record<string, string>][]
      ) {
        const res = await install(
          ["--name", "guarded", "--endpoint", String(origin.port), ...args],
          extra,
        );
        assert.equal(res.code, 2, res.stderr);
        assert.match(res.stderr, /invalid peer id "(abc|[0-9a-f]{66}|nope|(5e){32})"/);
        assert.match(res.stderr, /64 hex characters/);
      }
      assert.equal(await pathExists(definitionPath("guarded")), false);
      assert.equal(await pathExists(unitPath("guarded")), false);
      assert.deepEqual(await fake.calls(), [], "systemctl was never asked");
    });

    await t.step("--dry-run shows the peers the definition will keep", async () => {
      const args = [
        "--name",
        "guarded",
        "--endpoint",
        String(origin.port),
        "--allow-peer",
        STRANGER.toUpperCase(),
        "--dry-run",
      ];
      const text = await install(args, { DATUMCTL_TUNNEL_ALLOWED_PEERS: `${STRANGER}, ${edge}` });
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`^allow_peers:\\n  - ${STRANGER}\\n  - ${edge}\\n`, "m"),
      );
      const json = await install([...args, "-o", "json"]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout).definition.allow_peers, [STRANGER]);
      assert.equal(await pathExists(definitionPath("guarded")), false);
    });

    await t.step("run refuses the edge when the definition allows only another peer", async () => {
      const res = await install([
        "--name",
        "guarded",
        "--endpoint",
        String(origin.port),
        "--allow-peer",
        STRANGER,
        "--no-start",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const definition = parseYaml(await Deno.readTextFile(definitionPath("guarded")));
      assert.deepEqual(definition.allow_peers, [STRANGER]);

      run = startRun("guarded");
      // The public check goes through the edge, whose peer the agent refuses at the connection:
      // the tunnel never gets ready, and the check says why.
      const refused = await run.waitForEvent((e) =>
        e.type === "verify" && e.side === "public" && /refused peer/.test(e.error ?? "")
      );
      assert.equal(refused.reachable, false);
      assert.match(refused.error, new RegExp(`refused peer ${edge} \\(not in --allow-peer\\)`));
      const seen = origin.requests;
      const host = new URL(refused.url).hostname;
      const answer = await requestViaGateway(gateway, host, "/guarded", { timeoutMs: 20_000 })
        .catch(() => ({ status: 0 }));
      assert.notEqual(answer.status, 200, "the edge got nothing through");
      assert.equal(origin.requests, seen, "the origin never saw the refused peer");
      assert.ok(!run.events.some((e) => e.type === "ready"));
      run.signal("SIGTERM");
      assert.equal(await run.exited(), 0, run.stderr());
      run = undefined;
    });

    let id = "";
    let hostname = "";
    await t.step(
      "peers exported at install time are kept: the edge is served, and named",
      async () => {
        const res = await install(
          ["--name", "web", "--endpoint", String(origin.port), "--no-start"],
          { DATUMCTL_TUNNEL_ALLOWED_PEERS: edge },
        );
        assert.equal(res.code, 0, res.stderr);
        const definition = parseYaml(await Deno.readTextFile(definitionPath("web")));
        assert.deepEqual(definition.allow_peers, [edge]);
        // The service does not get the installer's environment: the definition carries them.
        run = startRun("web");
        const ready = await run.waitForEvent((e) => e.type === "ready");
        id = ready.id;
        hostname = ready.hostnames[0];
        const answer = await publicGet(gateway, hostname, "/web");
        assert.deepEqual(answer, { status: 200, body: "hello from origin /web\n" });
        const request = await run.waitForEvent((e) => e.type === "request" && e.path === "/web");
        assert.equal(request.peer, edge);
      },
    );

    await t.step("a running service never follows a server edit of its backend", async () => {
      assert.ok(run, "the service from the previous step runs");
      await editBackend(bob, id, `http://127.0.0.1:${trap.port}`);
      // The edge now asks the agent for the trap's port: the agent answers 403 itself.
      const denied = await waitForPublic(gateway, hostname, (a) => a.status === 403);
      assert.equal(denied.status, 403);
      await run.waitForEvent((e) => e.type === "request" && e.status === 403);
      assert.equal(trap.connections, 0, "the edited target was never dialled");
      run.signal("SIGTERM");
      assert.equal(await run.exited(), 0, run.stderr());
      run = undefined;
    });

    await t.step(
      "restarted after the edit, run stops with exit 64 TUNNEL_RETARGETED and dials nothing",
      async () => {
        for (const edited of [`http://127.0.0.1:${trap.port}`, "http://10.0.0.1:80"]) {
          await editBackend(bob, id, edited);
          const seen = origin.requests;
          const again = startRun("web");
          const code = await again.exited(30_000);
          assert.equal(code, 64, again.stderr());
          const error = again.events.find((e) => e.type === "error");
          assert.equal(error?.code, "TUNNEL_RETARGETED", again.stdout());
          assert.equal(error?.exit_code, 64);
          const shown = edited.replace("http://", "");
          assert.match(error?.message, new RegExp(`now forwards to http://${shown}`));
          assert.match(error?.message, new RegExp(`serves as http://localhost:${origin.port}`));
          assert.ok(!again.events.some((e) => e.type === "ready"), "it never got ready");
          assert.equal(trap.connections, 0, "the edited target was never dialled");
          assert.equal(origin.requests, seen);
        }
        // 64 is a permanent error for the unit: the service manager does not restart it.
        const unit = await Deno.readTextFile(unitPath("web"));
        assert.match(unit, /^RestartPreventExitStatus=64 /m);
      },
    );
  } finally {
    run?.signal("SIGKILL");
    await run?.exited().catch(() => {});
    await origin.close();
    await trap.close();
    await stack.stop();
  }
});
