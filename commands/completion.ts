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
import type { RegisterCommands } from "./context.ts";
import type { Candidate, CompletionValues, Shell } from "../lib/ui/completion.ts";

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

async function contextCandidates(): Promise<Candidate[]> {
  try {
    const { loadConfig } = await import("../lib/store/config.ts");
    const config = await loadConfig();
    return config.contexts.map((c) => ({ value: c.name, description: c.session }));
  } catch {
    // A missing or broken config must not break TAB; `ctx` reports it properly.
    return [];
  }
}

async function tunnelCandidates(): Promise<Candidate[]> {
  try {
    const { readTunnelState } = await import("../lib/tunnel/state.ts");
    const { connectRepo } = await import("../lib/tunnel/keys.ts");
    const entries = await readTunnelState(connectRepo(undefined));
    return entries.map((e) => ({ value: e.id, description: e.label }));
  } catch {
    return [];
  }
}

/** The refs `ctx` shows (`org`, `org/project`) of the active login, with display names. */
async function contextRefCandidates(): Promise<Candidate[]> {
  try {
    const [{ loadConfig }, { contextViews }, { activeSession }] = await Promise.all([
      import("../lib/store/config.ts"),
      import("../lib/scope/contexts.ts"),
      import("../lib/auth/sessions.ts"),
    ]);
    const config = await loadConfig();
    const active = activeSession(config)?.name;
    if (!active) return [];
    return contextViews(config, [active]).map((v) => ({
      value: v.ref,
      description: v.project ? v.project.displayName : v.organization.displayName,
    }));
  } catch {
    return [];
  }
}

async function tunnelNameCandidates(): Promise<Candidate[]> {
  try {
    const { listNamedTunnelNames } = await import("../lib/tunnel/daemon/record.ts");
    return (await listNamedTunnelNames()).map((value) => ({ value }));
  } catch {
    return [];
  }
}

async function resourceTypeCandidates(): Promise<Candidate[]> {
  try {
    const { cachedTypeNames } = await import("../lib/resources/type-names.ts");
    return await cachedTypeNames();
  } catch {
    return [];
  }
}

async function localValues(words: string[]): Promise<CompletionValues> {
  const wantsTunnels = words.includes("tunnel");
  const none = Promise.resolve([] as Candidate[]);
  const [contexts, contextRefs, tunnelIds, tunnelNames, resourceTypes] = await Promise.all([
    contextCandidates(),
    contextRefCandidates(),
    wantsTunnels ? tunnelCandidates() : none,
    wantsTunnels ? tunnelNameCandidates() : none,
    words.length <= 2 || !wantsTunnels ? resourceTypeCandidates() : none,
  ]);
  return { contexts, contextRefs, tunnelIds, tunnelNames, resourceTypes };
}

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
      const { completionScript } = await import("../lib/ui/completion.ts");
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
      const { completeWords } = await import("../lib/ui/completion.ts");
      const root = cmd.parent ?? program;
      ctx.io.out(await completeWords(root, words, await localValues(words)));
    });
};
