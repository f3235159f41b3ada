import assert from "node:assert/strict";
import { cliCommand, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { startTerminal } from "./support/tmux.ts";
import { loginFlags } from "./support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

Deno.test("login and auth switch on a terminal", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    const home = await makeHome();

    await t.step("device login shows a QR code, then offers the context picker", async () => {
      const term = await startTerminal(
        [...cliCommand(), "login", ...loginFlags(stack), "--no-browser"],
        isolatedEnv(home, FILE),
      );
      try {
        const screen = await term.waitFor(/Select a context[\s\S]*acme-corp\/infra/);
        assert.match(screen, /[▀▄█]{10,}/, "a QR code is drawn");
        assert.match(screen, /user_code=[A-Z]{4}-[A-Z]{4}/);
        await term.type("infra");
        // The unfiltered list already shows acme-corp/infra: wait until the search has filtered
        // (web-app gone), or Enter may arrive while the prompt is still busy.
        await term.waitFor(/^(?![\s\S]*web-app)[\s\S]*acme-corp\/infra/);
        await term.keys("Enter");
        assert.equal(await term.exitCode(), 0, await term.screen());
        assert.match(await term.screen(), /Context set to acme-corp\/infra/);
      } finally {
        await term.close();
      }
    });

    await t.step("auth switch without an email asks which login, on a terminal only", async () => {
      await stack.setAutoApprove("bob@example.com");
      const bob = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
        home,
        env: FILE,
      });
      assert.equal(bob.code, 0, bob.stderr);
      const term = await startTerminal(
        [...cliCommand(), "auth", "switch"],
        isolatedEnv(home, FILE),
      );
      try {
        const screen = await term.waitFor(
          /Which login session\?(?=[\s\S]*alice@example\.com)(?=[\s\S]*bob@example\.com)/,
        );
        assert.match(screen, /bob@example\.com {2}\(active\)/);
        const alice = screen.split("\n").findIndex((l) => l.includes("alice@example.com"));
        const bobLine = screen.split("\n").findIndex((l) => l.includes("bob@example.com"));
        await term.keys(alice < bobLine ? "Up" : "Down");
        await term.keys("Enter");
        assert.equal(await term.exitCode(), 0, await term.screen());
        const after = await term.screen();
        assert.match(after, /Switched to Alice Example \(alice@example\.com\)/);
        assert.match(after, /Context: +acme-corp\/infra/);
      } finally {
        await term.close();
      }
    });
  } finally {
    await stack.stop();
  }
});
