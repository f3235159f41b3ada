/**
 * `tunnel listen --inspect` on a real terminal (tmux): the inspector's URL is printed, and after
 * ready the last requests (method, path, status, duration) are listed under the live status
 * line, newest last, at most five, redrawn in place as more arrive.
 */
import assert from "node:assert/strict";
import { cliCommand, isolatedEnv } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { startTerminal } from "./support/tmux.ts";
import { loginHome, publicGet, startOrigin, tunnelEnv } from "./support/tunnel.ts";

Deno.test("tunnel listen --inspect on a terminal: the URL, and requests under the status line", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  try {
    assert.ok(stack.gateway, "the local stack has a gateway");
    const home = await loginHome(stack, "alice@example.com");
    const env = { ...isolatedEnv(home, tunnelEnv(stack)) };
    const term = await startTerminal(
      [...cliCommand(), "tunnel", "listen", String(origin.port), "--inspect"],
      env,
    );
    try {
      const first = await term.waitFor(/Tunnel ready after \d+ sec: https:\/\/(\S+)/);
      assert.match(first, /Request inspector: http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}/);
      const hostname = /Tunnel ready after \d+ sec: https:\/\/(\S+)/.exec(first)![1];
      for (let i = 1; i <= 7; i++) {
        assert.equal((await publicGet(stack.gateway, hostname, `/page-${i}`)).status, 200);
      }
      const screen = await term.waitFor(/GET\s+\/page-7\s+200\s+[\d.]+ ms/, 15_000);
      const lines = screen.split("\n");
      const status = lines.findIndex((l) => /\d+ requests? · .* in · .* out/.test(l));
      assert.ok(status >= 0, screen);
      const below = lines.slice(status + 1).filter((l) => l.trim() !== "");
      assert.deepEqual(
        below.map((l) => /GET\s+(\/page-\d)\s+200\s+[\d.]+ ms/.exec(l)?.[1]),
        ["/page-3", "/page-4", "/page-5", "/page-6", "/page-7"],
        screen,
      );
      assert.equal(screen.match(/\/page-7/g)?.length, 1, "redrawn in place, not appended");
    } finally {
      await term.close();
    }
  } finally {
    await origin.close();
    await stack.stop();
  }
});
