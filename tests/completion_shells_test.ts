/**
 * Completion in real shells (bash with bash-completion, zsh with compinit, fish) on a tmux
 * terminal, with a HOME whose session names hold `host:port` as a real login's do: `ctx use`
 * offers the `org/project` refs `ctx` shows, a full context name with a `:` is inserted once,
 * `get` offers resource types from the discovery cache, `-o` the formats of its command, and
 * `tunnel stop --name` the named tunnels of this machine. Nothing here needs the network.
 */
import assert from "node:assert/strict";
import { BOB, seededHome } from "./support/seeded_home.ts";
import { startTerminal, type Terminal } from "./support/tmux.ts";

interface ShellSetup {
  argv: string[];
  /** The line that loads datumctl's completion and prints READY. */
  init: string;
}

const SHELLS: Record<string, ShellSetup> = {
  bash: {
    argv: ["bash", "--norc", "--noprofile"],
    init:
      "source /usr/share/bash-completion/bash_completion && source <(datumctl completion bash) && echo READY",
  },
  zsh: {
    argv: ["zsh", "-f"],
    init:
      "PS1='$ '; autoload -Uz compinit && compinit -u && source <(datumctl completion zsh) && echo READY",
  },
  fish: {
    argv: ["fish", "--no-config"],
    init:
      "function fish_prompt; printf '$ '; end; set -g fish_autosuggestion_enabled 0; datumctl completion fish | source; and echo READY",
  },
};

/** Types `line`, presses TAB and waits until the prompt line reads `expected` (then clears it). */
async function completes(term: Terminal, line: string, expected: string): Promise<void> {
  await term.type(line);
  await term.keys("Tab");
  const escaped = expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  try {
    await term.waitFor(new RegExp(`^\\$ ${escaped} ?$`, "m"), 20_000);
  } finally {
    await term.keys("C-u");
    await term.keys("C-l");
  }
}

for (const [shell, setup] of Object.entries(SHELLS)) {
  Deno.test(`${shell} completes refs, types, formats and tunnel names on a real terminal`, async () => {
    const { env } = await seededHome();
    const term = await startTerminal(setup.argv, env, { width: 160, height: 40 });
    try {
      await term.waitFor(/[$#>] ?$/m);
      await term.type(setup.init);
      await term.keys("Enter");
      await term.waitFor(/^READY$/m);
      await term.keys("C-l");
      await term.waitFor(/^\$ ?$/m);

      // The refs `ctx` shows, not the stored `<email>@<host:port>/…` names.
      await completes(term, "datumctl ctx use acme-corp/i", "datumctl ctx use acme-corp/infra");
      // A stored name with host:port is inserted once, not doubled at the ':'.
      await completes(term, "datumctl --context bob", `datumctl --context ${BOB}/beta-org`);
      await completes(term, "datumctl get httpp", "datumctl get httpproxies");
      await completes(term, "datumctl get connectors -o ya", "datumctl get connectors -o yaml");
      await completes(
        term,
        "datumctl tunnel stop --name we",
        "datumctl tunnel stop --name web-app",
      );
      const screen = await term.screen();
      assert.doesNotMatch(screen, /127\.0\.0\.1:alice/);
    } finally {
      await term.close();
    }
  });
}
