/**
 * `datumctl tunnel` end to end against the local stack and its gateway: listen →
 * the public URL serves the local origin → Ctrl-C disables it and the URL stops serving; a
 * resume by id keeps the hostname; list, update (idempotent: no PATCH, resourceVersion kept) and
 * delete (also without a Connector); the JSON event stream validates against its schema.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { runCli } from "./support/cli.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import {
  loginHome,
  projectApi,
  publicGet,
  startListener,
  startOrigin,
  tunnelEnv,
  waitForPublic,
} from "./support/tunnel.ts";

const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";
const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";
const ADS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectoradvertisements";

const schema = z.fromJSONSchema(
  JSON.parse(
    await Deno.readTextFile(new URL("../docs/tunnel-events.schema.json", import.meta.url)),
  ),
);

function gatewayOf(stack: LocalStack): string {
  assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
  return stack.gateway;
}

Deno.test("tunnel listen, resume, list, update and delete against the local stack", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  try {
    const gateway = gatewayOf(stack);
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    const api = await projectApi(stack, "alice@example.com", "infra");
    let id = "";
    let hostname = "";
    let label = "";

    await t.step("listen -o json: ready only after the public URL reached the origin", async () => {
      const listener = startListener(home, [String(origin.port), "-o", "json"], env);
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      id = ready.id;
      label = ready.label;
      hostname = ready.hostnames[0];
      assert.match(id, /^tunnel-/);
      assert.match(label, /^[0-9a-f]{12}$/, "a new tunnel gets a 12-hex label");
      assert.equal(ready.url, `https://${hostname}`);
      assert.equal(ready.endpoint, `http://localhost:${origin.port}`);
      // The verification crossed the tunnel before ready was sent.
      const proven = listener.events.find((e) =>
        e.type === "verify" && e.side === "public" && e.reachable
      );
      assert.ok(proven, "a public probe succeeded");
      assert.ok(listener.events.indexOf(proven) < listener.events.indexOf(ready));
      assert.ok(origin.requests >= 2, "the origin saw the local probe and the tunnelled one");
      const steps = listener.events.filter((e) => e.type === "step" && e.status === "ready")
        .map((e) => `${e.step} ${e.resource}`);
      for (const step of ["tunnel_accepted", "certificates_ready", "route_programmed"]) {
        assert.ok(steps.includes(`${step} HTTPProxy/${id}`), `${step} in ${steps}`);
      }
      assert.ok(steps.some((s) => /^connector_ready Connector\//.test(s)));
      assert.ok(steps.some((s) => /^iroh_dns_published Connector\//.test(s)));

      const answer = await publicGet(gateway, hostname, "/hello");
      assert.equal(answer.status, 200);
      assert.equal(answer.body, "hello from origin /hello\n");
      await listener.waitForEvent((e) => e.type === "stats" && e.requests_total >= 2);

      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0, listener.stderr());
      const stopped = listener.events.at(-1)!;
      assert.deepEqual(
        [stopped.type, stopped.reason, stopped.exit_code, stopped.disabled],
        ["stopped", "interrupted", 0, true],
      );
      assert.ok(listener.events.some((e) => e.type === "phase" && e.phase === "disabled"));
      for (const event of listener.events) {
        const result = schema.safeParse(event);
        assert.ok(result.success, `${JSON.stringify(event)}: ${JSON.stringify(result.error)}`);
      }
      // Ctrl-C disabled the tunnel: its advertisement is gone and the URL stops serving.
      await assert.rejects(api.get(`${ADS}/${id}`), /not found/i);
      const after = await waitForPublic(gateway, hostname, (a) => a.status !== 200);
      assert.equal(after.status, 503);
      const proxy = await api.get<{ status: { hostnames: string[] } }>(`${PROXIES}/${id}`);
      assert.deepEqual(proxy.status.hostnames, [hostname], "the hostname survives a disable");
    });

    await t.step("list shows the tunnel, disabled, in text and JSON", async () => {
      const text = await runCli(["tunnel", "list"], { home, env });
      assert.equal(text.code, 0, text.stderr);
      assert.equal(
        text.stdout,
        `${id} [disabled] ${label} -> http://localhost:${origin.port}\n  hostname: ${hostname}\n  status: disabled, not serving ('datumctl tunnel listen --id ${id}' resumes it)\n`,
      );
      const json = await runCli(["tunnel", "list", "-o", "json"], { home, env });
      const [entry] = JSON.parse(json.stdout);
      assert.equal(entry.id, id);
      assert.equal(entry.enabled, false);
      assert.deepEqual(entry.hostnames, [hostname]);
    });

    await t.step("resume by --id keeps the hostname (human output)", async () => {
      const listener = startListener(home, ["--id", id], env);
      await listener.waitForStderr(/Press Ctrl\+C to stop\.\.\./);
      assert.match(
        listener.stdout(),
        new RegExp(`^Tunnel ready after \\d+ sec: https://${hostname}\\n$`),
      );
      const err = listener.stderr();
      assert.match(
        err,
        new RegExp(
          `^Resuming tunnel ${id} \\(${hostname}\\) -> http://localhost:${origin.port}\\nYour endpoint ID: [0-9a-f]{64}\\nSetting up tunnel\\.\\.\\.\\n`,
        ),
      );
      assert.match(err, new RegExp(`  tunnel accepted \\(\\d+\\.\\ds\\) \\[HTTPProxy/${id}\\]`));
      assert.match(err, / {2}connector ready \(\d+\.\ds\) \[Connector\/datum-connect-/);
      assert.match(err, /Verifying connectivity\.\.\./);
      assert.match(err, / {2}proxy responding \(\d+\.\ds\) \[https:\/\/.*\/\]: HTTP 200/);
      // The restart came within the iroh DNS TTL of the stop: said, not silent.
      assert.match(err, /note: A tunnel of this project stopped \d+s ago/);
      const answer = await waitForPublic(gateway, hostname, (a) => a.status === 200);
      assert.equal(answer.body, "hello from origin /\n");

      // One listener per project and machine: a second one queues behind it, then takes over.
      const queued = startListener(home, ["--id", id], env);
      await queued.waitForStderr(/waiting for it to stop/);
      assert.match(
        queued.stderr(),
        /Another 'datumctl tunnel listen' is serving project infra on this machine \(pid \d+\)/,
      );
      listener.signal("SIGTERM");
      assert.equal(await listener.exited(), 0);
      await queued.waitForStderr(/Press Ctrl\+C to stop\.\.\./);
      queued.signal("SIGTERM");
      assert.equal(await queued.exited(), 0, queued.stderr());
      assert.match(listener.stderr(), /Disabling tunnel\.\.\.\nTunnel disabled\.\n$/);
    });

    await t.step(
      "--id with a different endpoint is refused, pointing at tunnel update",
      async () => {
        const res = await runCli(["tunnel", "listen", "--id", id, "--endpoint", "localhost:1"], {
          home,
          env,
        });
        assert.equal(res.code, 64, res.stderr);
        assert.match(res.stderr, /forwards to http:\/\/localhost:\d+, not http:\/\/localhost:1/);
        assert.match(res.stderr, new RegExp(`tunnel update --id ${id} --endpoint`));
      },
    );

    await t.step("listen without an endpoint or id and no terminal names both flags", async () => {
      const res = await runCli(["tunnel", "listen"], { home, env });
      assert.equal(res.code, 2);
      assert.match(res.stderr, /--endpoint/);
      assert.match(res.stderr, /--id/);
    });

    await t.step("update is idempotent: the second run sends no PATCH", async () => {
      const first = await runCli(["tunnel", "update", "--id", id, "--label", "docs"], {
        home,
        env,
      });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, `Updated tunnel ${id}: docs -> http://localhost:${origin.port}\n`);
      // Let the controllers finish reconciling the first change (they write status).
      type Meta = { metadata: { resourceVersion: string; generation: number } };
      let before = await api.get<Meta>(`${PROXIES}/${id}`);
      for (let settled = 0; settled < 3;) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await api.get<Meta>(`${PROXIES}/${id}`);
        settled = now.metadata.resourceVersion === before.metadata.resourceVersion
          ? settled + 1
          : 0;
        before = now;
      }
      const again = await runCli(
        ["tunnel", "update", "--id", id, "--label", "docs", "-o", "json"],
        { home, env },
      );
      assert.equal(again.code, 0, again.stderr);
      const result = JSON.parse(again.stdout);
      assert.equal(result.changed, false);
      assert.equal(result.label, "docs");
      const after = await api.get<Meta>(`${PROXIES}/${id}`);
      assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
      assert.equal(after.metadata.generation, before.metadata.generation);
    });

    await t.step("listen by the same endpoint adopts the tunnel and keeps its label", async () => {
      const listener = startListener(
        home,
        ["--endpoint", `127.0.0.1:${origin.port}`, "-o", "json"],
        env,
      );
      // A different spelling of the endpoint is a different endpoint: a new tunnel.
      const created = await listener.waitForEvent((e) => e.type === "tunnel");
      assert.equal(created.action, "created");
      await listener.waitForEvent((e) => e.type === "ready");
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0);

      const adopt = startListener(home, [`localhost:${origin.port}`, "-o", "json"], env);
      const chosen = await adopt.waitForEvent((e) => e.type === "tunnel");
      assert.deepEqual([chosen.action, chosen.via, chosen.id, chosen.label], [
        "adopted",
        "endpoint",
        id,
        "docs",
      ]);
      await adopt.waitForEvent((e) => e.type === "ready");
      adopt.signal("SIGINT");
      assert.equal(await adopt.exited(), 0);
      const del = await runCli(["tunnel", "delete", "--id", created.id], { home, env });
      assert.equal(del.code, 0, del.stderr);

      // A different --label on an adopted tunnel needs a yes; without a terminal, --yes.
      const relabel = await runCli([
        "tunnel",
        "listen",
        `localhost:${origin.port}`,
        "--label",
        "other",
      ], {
        home,
        env,
      });
      assert.equal(relabel.code, 2, relabel.stderr);
      assert.match(relabel.stderr, /labelled "docs", not "other"/);
      assert.match(relabel.stderr, /--yes/);
    });

    await t.step("delete removes the tunnel, then the Connector nothing references", async () => {
      const connectorsBefore = await api.list<unknown>(CONNECTORS);
      assert.equal(connectorsBefore.items.length, 1);
      const res = await runCli(["tunnel", "delete", "--id", id], { home, env });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `Deleted tunnel ${id}\n`);
      await assert.rejects(api.get(`${PROXIES}/${id}`), /not found/i);
      assert.equal((await api.list<unknown>(CONNECTORS)).items.length, 0);
      const list = await runCli(["tunnel", "list"], { home, env });
      assert.equal(list.stdout, "No tunnels found.\n");
      const missing = await runCli(["tunnel", "delete", "--id", id], { home, env });
      assert.equal(missing.code, 64);
      assert.match(missing.stderr, new RegExp(`tunnel ${id} not found in project infra`));
    });

    await t.step("delete works on a machine without a key or Connector", async () => {
      const proxy = await api.create<{ metadata: { name: string } }>(PROXIES, {
        apiVersion: "networking.datumapis.com/v1alpha",
        kind: "HTTPProxy",
        metadata: { generateName: "tunnel-" },
        spec: {
          rules: [{
            backends: [{ endpoint: "http://localhost:9", connector: { name: "gone" } }],
          }],
        },
      });
      // A fresh HOME: no listen_key, so no Connector of this machine exists.
      const again = await loginHome(stack, "alice@example.com");
      const res = await runCli(["tunnel", "delete", "--id", proxy.metadata.name], {
        home: again,
        env,
      });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `Deleted tunnel ${proxy.metadata.name}\n`);
      await assert.rejects(api.get(`${PROXIES}/${proxy.metadata.name}`), /not found/i);
    });

    await t.step("a tunnel needs a project scope", async () => {
      const res = await runCli(["tunnel", "list", "--organization", "acme-corp"], { home, env });
      assert.equal(res.code, 2);
      assert.match(res.stderr, /tunnels live in a project/);
      assert.match(res.stderr, /--project/);
      // With -o json even an early failure ends the stream with error and stopped events.
      const json = await runCli(
        ["tunnel", "listen", "8080", "-o", "json", "--organization", "acme-corp"],
        { home, env },
      );
      assert.equal(json.code, 2);
      const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.type), ["error", "stopped"]);
      assert.equal(lines[0].exit_code, 2);
      for (const line of lines) assert.ok(schema.safeParse(line).success, JSON.stringify(line));
    });
  } finally {
    await origin.close();
    await stack.stop();
  }
});
