/**
 * Named tunnels end to end: two `tunnel listen --name` of one project run at
 * once, each with its own iroh identity and folder, and both public URLs answer through the
 * gateway; a second listener with a taken name is refused; a malformed name is a usage error;
 * `list`, `update` and `delete --name` act as that name's identity.
 */
import assert from "node:assert/strict";
import { runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import {
  type Listener,
  loginHome,
  publicGet,
  startListener,
  startOrigin,
  tunnelEnv,
} from "./support/tunnel.ts";

Deno.test("two named tunnels of one project run side by side with their own identities", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const originA = startOrigin();
  const originB = startOrigin();
  const listeners: Listener[] = [];
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack, { DATUM_CONNECT_REPO: `${home}/connect` });
    // Named tunnels live under $XDG_DATA_HOME/datumctl/connect/<name>, not in the shared repo.
    const named = (n: string) => `${home}/.local/share/datumctl/connect/${n}`;

    const bad = await runCli(["tunnel", "listen", "8080", "--name", "Bad_Name"], { home, env });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /"Bad_Name" is not a valid tunnel name/);

    const a = startListener(home, [String(originA.port), "--name", "a", "-o", "json"], env);
    const b = startListener(home, [String(originB.port), "--name", "b", "-o", "json"], env);
    listeners.push(a, b);
    const [readyA, readyB] = await Promise.all(
      [a, b].map((l) => l.waitForEvent((e) => e.type === "ready")),
    );
    const idA = a.events.find((e) => e.type === "identity")!;
    const idB = b.events.find((e) => e.type === "identity")!;
    assert.match(idA.endpoint_id, /^[0-9a-f]{64}$/);
    assert.notEqual(idA.endpoint_id, idB.endpoint_id, "each name has its own iroh identity");
    assert.equal(idA.key_path, `${named("a")}/projects/infra/listen_key`);
    assert.equal(idB.key_path, `${named("b")}/projects/infra/listen_key`);
    assert.match(await Deno.readTextFile(`${named("a")}/state.yml`), new RegExp(readyA.id));
    assert.match(await Deno.readTextFile(`${named("b")}/state.yml`), new RegExp(readyB.id));

    const answerA = await publicGet(gateway, readyA.hostnames[0], "/a");
    const answerB = await publicGet(gateway, readyB.hostnames[0], "/b");
    assert.deepEqual(answerA, { status: 200, body: "hello from origin /a\n" });
    assert.deepEqual(answerB, { status: 200, body: "hello from origin /b\n" });

    // The same name twice would share an identity: a name conflict, refused (64, permanent).
    const again = await runCli(
      ["tunnel", "listen", String(originA.port), "--name", "a", "-o", "json"],
      { home, env },
    );
    assert.equal(again.code, 64, again.stderr);
    assert.match(again.stdout, /"code":"TUNNEL_LISTENER_RUNNING"/);

    for (const l of listeners) l.signal("SIGINT");
    for (const l of listeners) assert.equal(await l.exited(), 0, l.stderr());

    // list, update and delete act as the named identity: a's Connector, not b's.
    const list = await runCli(["tunnel", "list", "--name", "a", "-o", "json"], { home, env });
    assert.equal(list.code, 0, list.stderr);
    const ids = (JSON.parse(list.stdout) as { id: string }[]).map((t) => t.id);
    assert.deepEqual(ids, [readyA.id]);
    assert.ok(!ids.includes(readyB.id));
    const badList = await runCli(["tunnel", "list", "--name", "Bad_Name"], { home, env });
    assert.equal(badList.code, 2, badList.stderr);

    const update = await runCli(
      ["tunnel", "update", "--name", "a", "--id", readyA.id, "--label", "x", "-o", "json"],
      { home, env },
    );
    assert.equal(update.code, 0, update.stderr);
    assert.equal(JSON.parse(update.stdout).label, "x");

    const del = await runCli(["tunnel", "delete", "--name", "a", "--id", readyA.id], { home, env });
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, `Deleted tunnel ${readyA.id}\n`);
    assert.doesNotMatch(
      await Deno.readTextFile(`${named("a")}/state.yml`),
      new RegExp(readyA.id),
    );
  } finally {
    for (const l of listeners) {
      l.signal("SIGKILL");
      await l.exited().catch(() => {});
    }
    await originA.close();
    await originB.close();
    await stack.stop();
  }
});
