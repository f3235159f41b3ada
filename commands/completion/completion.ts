/**
 * `datumctl completion bash|zsh|fish|powershell` prints a completion script; the hidden
 * `datumctl complete -- <words>` answers the script on every TAB.
 *
 * Completes every command and flag of the tree `main.ts` builds, the `org/project` refs `ctx`
 * shows (read from ~/.datumctl/config, no network) for `ctx use` and `--context` (plus other
 * logins' full context names), resource types from the discovery cache for `get`, `describe` and
 * the other verbs, the formats an `-o` flag lists, named tunnels for `tunnel … --name`, and
 * tunnel ids for `tunnel … --id` from this machine's tunnel list (`<repo>/state.yml`). Tunnels
 * only the server knows are not offered: listing them needs the network, and TAB must answer at
 * once.
 */
import { Argument, type Command } from "commander";
import type { RegisterCommands } from "../command-context.ts";
import type { Shell } from "../../lib/ui/completion.ts";
import { localValues } from "./values.ts";

const SHELL_NAMES = ["bash", "zsh", "fish", "powershell"];

const EXAMPLES = `
Examples:
  # bash (needs the bash-completion package), this shell only:
  source <(datumctl completion bash)
  # bash, every new shell:
  datumctl completion bash > ~/.local/share/bash-completion/completions/datumctl

  # zsh (compinit must be loaded):
  datumctl completion zsh > "\${fpath[1]}/_datumctl"

  # fish:
  datumctl completion fish > ~/.config/fish/completions/datumctl.fish

  # PowerShell:
  datumctl completion powershell | Out-String | Invoke-Expression`;

/** Registers `completion` and the hidden `complete` it relies on. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("completion")
    .summary("Print a shell completion script")
    .description(
      "Print a script that makes your shell complete datumctl commands, flags, context names " +
        "and the tunnel ids this machine knows. Source it, or save it where your shell loads " +
        "completions from.",
    )
    .addArgument(new Argument("<shell>", "the shell to complete in").choices(SHELL_NAMES))
    .addHelpText("after", EXAMPLES)
    .action(async (shell: Shell) => {
      const { completionScript } = await import("../../lib/ui/completion.ts");
      ctx.io.out(await completionScript(shell));
    });

  // The scripts call `datumctl complete -- <words>`; the name is fixed by @bomb.sh/tab.
  program
    .command("complete", { hidden: true })
    .description("Answer one completion request from a shell script")
    .argument("[words...]", "the words typed so far; the last is the one being completed")
    .helpOption(false)
    .allowUnknownOption()
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const { completeWords } = await import("../../lib/ui/completion.ts");
      const root = cmd.parent ?? program;
      ctx.io.out(await completeWords(root, words, await localValues(words)));
    });
};
