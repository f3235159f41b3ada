/**
 * `deno task demo` on a real terminal (tmux) reads as a transcript: the tunnel's ready line
 * starts a line of its own, and the listener's status lines never land inside the next step's
 * header and output. It also shows a new user's first tunnel working with no
 * DATUMCTL_TUNNEL_GATEWAY (the demo sets none).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startTerminal } from "./support/tmux.ts";
import { parentDenoDir } from "./support/cli.ts";
import { engineFileName } from "../lib/tunnel/engine.ts";

const DEMO = fileURLToPath(new URL("../scripts/demo.ts", import.meta.url));

Deno.test("the demo's output is one step after the other on a terminal", async () => {
  const home = await Deno.makeTempDir({ prefix: "datumctl-demo-test-" });
  const engine = Deno.env.get("DATUMCTL_ENGINE") ??
    fileURLToPath(new URL(`../engine/dist/${engineFileName()}`, import.meta.url));
  const term = await startTerminal([Deno.execPath(), "run", "-A", "--quiet", DEMO], {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: parentDenoDir(),
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    // A built engine: the demo then skips its build step.
    DATUMCTL_ENGINE: engine,
  }, { width: 220, height: 120 });
  try {
    const screen = await term.waitFor(/Demo finished/, 120_000);
    assert.equal(await term.exitCode(), 0, screen);
    const lines = screen.split("\n").map((l) => l.trimEnd());
    const ready = lines.findIndex((l) => /Tunnel ready after \d+ sec: https:\/\//.test(l));
    assert.ok(ready >= 0, screen);
    assert.match(lines[ready], /^Tunnel ready after \d+ sec: https:\/\/\S+$/, screen);
    const curl = lines.findIndex((l) => l.startsWith("$ curl https://"));
    assert.ok(curl > ready, screen);
    // The curl step: its header, then its answer, with nothing of the listener in between.
    assert.equal(lines[curl - 1], "", screen);
    assert.deepEqual(lines.slice(curl + 1, curl + 3), [
      "HTTP 200",
      "Hello from a service on this machine! You asked for /hello",
    ], screen);
    assert.equal(lines[curl + 3], "", screen);
    assert.equal(lines[curl + 4], "(stopping the tunnel with Ctrl+C)", screen);
    // No live status line (redrawn in place) anywhere in the transcript.
    assert.doesNotMatch(screen, /\d+ requests? · /, screen);
  } finally {
    await term.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
