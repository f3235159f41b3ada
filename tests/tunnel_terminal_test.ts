/**
 * `tunnel listen` on a real terminal (tmux): with neither --endpoint nor --id it offers this
 * machine's tunnels as `hostname → endpoint [label]` and resumes the chosen one; with a single
 * candidate it resumes it without asking; after ready a live status line shows requests and the
 * path; a tunnel deleted on the server stops the listener with the documented message (exit 64).
 */
import assert from "node:assert/strict";
import { cliCommand, isolatedEnv, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { startTerminal } from "./support/tmux.ts";
import { loginHome, publicGet, startListener, startOrigin, tunnelEnv } from "./support/tunnel.ts";

Deno.test("tunnel listen on a terminal: picker, only candidate, status line, deleted upstream", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origins = [startOrigin(), startOrigin()];
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    const tunnels: { id: string; hostname: string; endpoint: string; label: string }[] = [];
    for (const [i, origin] of origins.entries()) {
      const listener = startListener(
        home,
        [String(origin.port), "--label", `site-${i}`, "-o", "json"],
        env,
      );
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      tunnels.push({
        id: ready.id,
        hostname: ready.hostnames[0],
        endpoint: ready.endpoint,
        label: ready.label,
      });
      listener.signal("SIGINT");
      assert.equal(await listener.exited(), 0);
    }
    const terminalEnv = { ...isolatedEnv(home, env) };
    delete terminalEnv.NO_COLOR;

    await t.step(
      "the picker lists hostname → endpoint [label] and resumes the choice",
      async () => {
        const term = await startTerminal([...cliCommand(), "tunnel", "listen"], terminalEnv);
        try {
          // Wait for every choice, not just the question: choices may render a moment later.
          const everyTunnel = tunnels.map((t) =>
            `(?=[\\s\\S]*${t.hostname.replaceAll(".", "\\.")})`
          );
          const screen = await term.waitFor(
            new RegExp(`Resume which tunnel\\?${everyTunnel.join("")}`),
          );
          for (const tunnel of tunnels) {
            assert.ok(
              screen.includes(`${tunnel.hostname} → ${tunnel.endpoint} [${tunnel.label}]`),
              screen,
            );
          }
          // Nothing else was written while the picker was open.
          assert.doesNotMatch(screen, /Your endpoint ID/);
          const second = screen.indexOf(tunnels[1].hostname) > screen.indexOf(tunnels[0].hostname)
            ? tunnels[1]
            : tunnels[0];
          await term.keys("Down");
          await term.keys("Enter");
          await term.waitFor(/Tunnel ready after \d+ sec/);
          const answer = await publicGet(gateway, second.hostname, "/picked");
          assert.equal(answer.status, 200);
          // The live status line counts the requests and says how the edge reaches us.
          await term.waitFor(/\d+ requests? · .* in · .* out · (direct|relay|idle)/);
          const del = await runCli(["tunnel", "delete", "--id", second.id], { home, env });
          assert.equal(del.code, 0, del.stderr);
          const end = await term.waitFor(/no longer exists on the server\. Stopping\./, 30_000);
          assert.match(end, new RegExp(`Tunnel ${second.id} no longer exists on the server`));
          assert.equal(await term.exitCode(), 64);
          tunnels.splice(tunnels.indexOf(second), 1);
        } finally {
          await term.close();
        }
      },
    );

    await t.step("a single candidate is resumed without asking", async () => {
      const [only] = tunnels;
      const term = await startTerminal([...cliCommand(), "tunnel", "listen"], terminalEnv);
      try {
        const screen = await term.waitFor(/Tunnel ready after \d+ sec/);
        assert.ok(
          screen.includes(`Resuming the only tunnel ${only.hostname} (${only.id})`),
          screen,
        );
        assert.doesNotMatch(screen, /Resume which tunnel\?/);
        const del = await runCli(["tunnel", "delete", "--id", only.id], { home, env });
        assert.equal(del.code, 0, del.stderr);
        await term.waitFor(/no longer exists on the server\. Stopping\./, 30_000);
        assert.equal(await term.exitCode(), 64);
      } finally {
        await term.close();
      }
    });
  } finally {
    await Promise.all(origins.map((o) => o.close()));
    await stack.stop();
  }
});
