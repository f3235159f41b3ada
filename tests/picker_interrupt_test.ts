/**
 * Ctrl-C in a picker ends the command with exit 130 (interrupted), as the README's exit-code
 * table says, and without an `error:` line: the person chose to stop.
 */
import assert from "node:assert/strict";
import { cliCommand } from "./support/cli.ts";
import { seededHome } from "./support/seeded_home.ts";
import { startTerminal } from "./support/tmux.ts";

Deno.test("Ctrl-C in the ctx use picker exits 130 without an error line", async () => {
  const { env } = await seededHome();
  const term = await startTerminal([...cliCommand(), "ctx", "use"], env);
  try {
    await term.waitFor(/Select a context[\s\S]*acme-corp/);
    await term.keys("C-c");
    assert.equal(await term.exitCode(), 130, await term.screen());
    assert.doesNotMatch(await term.screen(), /error:|Aborted/);
  } finally {
    await term.close();
  }
});
