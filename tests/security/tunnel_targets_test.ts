/**
 * The server never decides what this machine's agent may reach. Any project member can edit a
 * tunnel's HTTPProxy backend; after such an edit (to another local port, or to 10.0.0.1:80), or
 * a `tunnel update` from another machine, a resume by `--id` without a terminal stops with exit
 * 64 naming `--endpoint` and nothing is dialled; giving the same target with `--endpoint`
 * proceeds; a running agent never follows an edit; a target beyond loopback is refused unless
 * given on the command line. A trap origin on another local port counts every connection.
 */
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import {
  loginHome,
  projectApi,
  publicGet,
  startListener,
  startOrigin,
  tunnelEnv,
  waitForPublic,
} from "../support/tunnel.ts";

const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";

type Rules = { backends?: { endpoint: string; connector?: { name: string } }[] }[];

Deno.test("a tunnel's target comes from this machine, not from the server", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  const trap = startOrigin();
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    // Bob is another member of the project: he may edit any HTTPProxy in it.
    const bob = await projectApi(stack, "bob@example.com", "infra");
    let id = "";
    let hostname = "";

    /** Runs `tunnel listen ARGS`, which must end by itself: old versions served forever. */
    const listenOnce = async (args: string[], as = home) => {
      const run = startListener(as, args, env);
      const code = await run.exited(30_000);
      return { code, stderr: run.stderr() };
    };

    /** Bob points the tunnel's backend somewhere else, keeping its Connector. */
    const retarget = async (endpoint: string) => {
      const proxy = await bob.get<{ spec: { rules: Rules } }>(`${PROXIES}/${id}`);
      const rules = proxy.spec.rules.map((r) =>
        r.backends ? { ...r, backends: r.backends.map((b) => ({ ...b, endpoint })) } : r
      );
      await bob.patchMerge(`${PROXIES}/${id}`, { spec: { rules } });
    };

    await t.step("a first listen records the target on this machine", async () => {
      const listener = startListener(home, [String(origin.port), "-o", "json"], env);
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      id = ready.id;
      hostname = ready.hostnames[0];
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
    });

    await t.step(
      "after an edit to another local port, --id without a terminal is refused (64)",
      async () => {
        await retarget(`http://127.0.0.1:${trap.port}`);
        const res = await listenOnce(["--id", id, "-o", "json"]);
        assert.equal(res.code, 64, res.stderr);
        assert.match(
          res.stderr,
          new RegExp(`forwards to 127\\.0\\.0\\.1:${trap.port} on the server`),
        );
        assert.match(
          res.stderr,
          new RegExp(`localhost:${origin.port}`),
          "it shows the local record",
        );
        assert.match(res.stderr, new RegExp(`--id ${id} --endpoint 127\\.0\\.0\\.1:${trap.port}`));
        assert.equal(trap.requests, 0, "nothing dialled the server's target");
      },
    );

    await t.step("an edit to 10.0.0.1:80 is refused even with a local record (64)", async () => {
      await retarget("http://10.0.0.1:80");
      const res = await listenOnce(["--id", id]);
      assert.equal(res.code, 64, res.stderr);
      assert.match(res.stderr, /10\.0\.0\.1:80 on the server, which is not this machine/);
      assert.match(res.stderr, /--endpoint 10\.0\.0\.1:80/);
    });

    await t.step("the same target given with --endpoint proceeds", async () => {
      await retarget(`http://127.0.0.1:${trap.port}`);
      const listener = startListener(
        home,
        ["--id", id, "--endpoint", `127.0.0.1:${trap.port}`, "-o", "json"],
        env,
      );
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      assert.equal(ready.endpoint, `http://127.0.0.1:${trap.port}`);
      assert.ok(trap.requests >= 1, "the user's own choice is served");
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
    });

    await t.step("a running agent never follows an edit of the backend", async () => {
      const back = await runCli(
        ["tunnel", "update", "--id", id, "--endpoint", `localhost:${origin.port}`],
        { home, env },
      );
      assert.equal(back.code, 0, back.stderr);
      const listener = startListener(home, ["--id", id, "-o", "json"], env);
      await listener.waitForEvent((e) => e.type === "ready");
      const before = trap.requests;
      await retarget(`http://127.0.0.1:${trap.port}`);
      // The edge now asks this agent for the trap's port: the agent answers 403 itself.
      const denied = await waitForPublic(gateway, hostname, (a) => a.status === 403);
      assert.equal(denied.status, 403);
      const event = await listener.waitForEvent((e) => e.type === "request" && e.status === 403);
      assert.equal(event.peer, stack.gatewayEndpointId, "the request names the edge's peer id");
      assert.equal(trap.requests, before, "the trap was never dialled");
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
    });

    await t.step("a tunnel update from another machine is not followed either", async () => {
      await retarget(`http://localhost:${origin.port}`);
      const carol = await loginHome(stack, "bob@example.com");
      const moved = await runCli(
        ["tunnel", "update", "--id", id, "--endpoint", `127.0.0.1:${trap.port}`],
        { home: carol, env },
      );
      assert.equal(moved.code, 0, moved.stderr);
      const before = trap.requests;
      const res = await listenOnce(["--id", id]);
      assert.equal(res.code, 64, res.stderr);
      assert.match(res.stderr, /give the target with --endpoint/);
      assert.equal(trap.requests, before);
      const answer = await publicGet(gateway, hostname).catch(() => ({ status: 0 }));
      assert.notEqual(answer.status, 200, "nothing serves the moved tunnel from this machine");
    });

    await t.step(
      "--endpoint beyond loopback is allowed from the command line, with a warning",
      async () => {
        const listener = startListener(
          home,
          ["--endpoint", "10.0.0.1:9", "-o", "json", "--timeout", "1s"],
          env,
        );
        const warning = await listener.waitForEvent((e) =>
          e.type === "warning" && e.code === "target_not_local"
        );
        assert.match(warning.message, /10\.0\.0\.1:9, which is not this machine/);
        listener.signal("SIGINT");
        await listener.exited();
      },
    );
  } finally {
    await origin.close();
    await trap.close();
    await stack.stop();
  }
});
