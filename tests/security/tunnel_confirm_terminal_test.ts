/**
 * The terminal confirmation of a server's target, on a real terminal (tmux). After another
 * project member edits a tunnel's HTTPProxy backend, `tunnel listen --id ID` shows the server's
 * target and this machine's record and asks; on a machine with no record of the tunnel it says
 * so and asks. "No" exits 64 before anything is dialled; "yes" serves the confirmed target,
 * which becomes this machine's record, so the next resume needs no question. The edited target
 * is a trap port that counts every connection made to it.
 */
import assert from "node:assert/strict";
import { cliCommand, isolatedEnv } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import { startTerminal, type Terminal } from "../support/tmux.ts";
import {
  editBackend,
  loginHome,
  projectApi,
  publicGet,
  startConnectionTrap,
  startListener,
  startOrigin,
  tunnelEnv,
} from "../support/tunnel.ts";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("a server's target is served only after a yes on the terminal", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  const trap = startConnectionTrap();
  try {
    assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
    const gateway = stack.gateway;
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack);
    // Bob is another member of the project: he may edit any HTTPProxy in it.
    const bob = await projectApi(stack, "bob@example.com", "infra");

    const first = startListener(home, [String(origin.port), "-o", "json"], env);
    const ready = await first.waitForEvent((e) => e.type === "ready");
    const id: string = ready.id;
    const hostname: string = ready.hostnames[0];
    first.signal("SIGINT");
    assert.equal(await first.exited(), 0, first.stderr());
    await editBackend(bob, id, `http://127.0.0.1:${trap.port}`);
    const edited = `127.0.0.1:${trap.port}`;

    /** `tunnel listen --id ID` on a terminal of its own, as `home` (colours as a person sees). */
    const listenOnTerminal = async (as: string): Promise<Terminal> => {
      const terminalEnv = { ...isolatedEnv(as, env) };
      delete terminalEnv.NO_COLOR;
      // Wide enough that the question (wrapped by the prompt itself) stays on one line.
      return await startTerminal([...cliCommand(), "tunnel", "listen", "--id", id], terminalEnv, {
        width: 300,
      });
    };
    const question = new RegExp(
      `Let this machine's agent reach ${escape(edited)}\\?[\\s\\S]*\\(y/N\\)`,
    );

    await t.step("after an edit it shows both targets; no exits 64 without dialling", async () => {
      const term = await listenOnTerminal(home);
      try {
        const screen = await term.waitFor(question);
        assert.match(
          screen,
          new RegExp(`Tunnel ${id} forwards to ${escape(edited)} on the server`),
        );
        assert.match(screen, new RegExp(`this machine last served it as localhost:${origin.port}`));
        await term.type("n");
        await term.keys("Enter");
        assert.equal(await term.exitCode(), 64, await term.screen());
        const end = await term.screen();
        assert.match(
          end,
          new RegExp(`not serving tunnel ${id}: ${escape(edited)} was not confirmed`),
        );
        assert.match(
          end,
          new RegExp(`--id ${id} --endpoint ${escape(edited)}`),
          "the way to say so",
        );
        assert.doesNotMatch(end, /Tunnel ready/);
        assert.equal(trap.connections, 0, "the server's target was never dialled");
      } finally {
        await term.close();
      }
    });

    await t.step("with no local record it says so and asks; no exits 64", async () => {
      const elsewhere = await loginHome(stack, "alice@example.com");
      const term = await listenOnTerminal(elsewhere);
      try {
        const screen = await term.waitFor(question);
        assert.match(screen, /and this machine has no record of serving it/);
        await term.type("n");
        await term.keys("Enter");
        assert.equal(await term.exitCode(), 64, await term.screen());
        assert.equal(trap.connections, 0, "the server's target was never dialled");
      } finally {
        await term.close();
      }
    });

    await t.step("yes serves the confirmed target, which this machine then records", async () => {
      const term = await listenOnTerminal(home);
      try {
        await term.waitFor(question);
        await term.type("y");
        await term.keys("Enter");
        await term.waitFor(/Tunnel ready after \d+ sec/, 60_000);
        const seen = origin.requests;
        const answer = await publicGet(gateway, hostname, "/confirmed");
        assert.deepEqual(answer, { status: 200, body: "hello from origin /confirmed\n" });
        assert.ok(trap.connections >= 1, "the confirmed target is the one served");
        assert.equal(origin.requests, seen, "the old target is not served any more");
        await term.keys("C-c");
        assert.equal(await term.exitCode(), 0, await term.screen());
      } finally {
        await term.close();
      }
      // The yes made the server's target this machine's record: no question without a terminal.
      const again = startListener(home, ["--id", id, "-o", "json"], env);
      const resumed = await again.waitForEvent((e) => e.type === "ready");
      assert.equal(resumed.endpoint, `http://${edited}`);
      again.signal("SIGINT");
      assert.equal(await again.exited(), 0, again.stderr());
    });
  } finally {
    await origin.close();
    await trap.close();
    await stack.stop();
  }
});
