/**
 * Shell completion, rendered with `@bomb.sh/tab` from whatever command tree `main.ts` built.
 *
 * Exports {@link completionScript} (the script a shell sources) and {@link completeWords} (the
 * answer to one TAB press: `value<TAB>description` lines, then `:<directive>`). The tree is
 * walked at the moment of the request, so every command, subcommand and flag any group
 * registers is completed without a list kept here. Values that cost nothing to find (context
 * names, locally known tunnel ids) come in through {@link CompletionValues}.
 */
import type { Command, Option as CommanderOption } from "commander";
import type { Command as TabCommand, RootCommand } from "@bomb.sh/tab";
import { sanitizeForTerminal } from "./terminal-text.ts";

/** The shells `@bomb.sh/tab` writes scripts for. */
export const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
/** One of {@link SHELLS}. */
export type Shell = typeof SHELLS[number];

/** A completion candidate and the description shells that show one print beside it. */
export interface Candidate {
  value: string;
  description?: string;
}

/** Values found without the network, offered where a flag or argument asks for them. */
export interface CompletionValues {
  /** Context names from ~/.datumctl/config (for `--context` and `ctx use`). */
  contexts: Candidate[];
  /** Tunnel ids this machine knows (for `--id` under `tunnel`). */
  tunnelIds: Candidate[];
}

/** zsh and fish print descriptions (tunnel labels, session names: data) on the terminal. */
function shownDescription(candidate: Candidate): string {
  return sanitizeForTerminal(candidate.description ?? "");
}

/** tab's "no file completion" directive; 0 lets the shell fall back to file names. */
const NO_FILE_COMPLETION = 4;
const FILE_COMPLETION = 0;

/** Runs `fn` with console.log captured: tab prints its output rather than returning it. */
function captureConsole(fn: () => void): string {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  try {
    fn();
  } finally {
    console.log = original;
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

async function newRoot(): Promise<RootCommand> {
  const { RootCommand } = await import("@bomb.sh/tab");
  return new RootCommand();
}

/** The script that makes `shell` ask `datumctl complete -- <words>` on TAB. */
export async function completionScript(shell: Shell, programName = "datumctl"): Promise<string> {
  const root = await newRoot();
  let script = captureConsole(() => root.setup(programName, programName, shell));
  if (shell === "bash") {
    // tab registers without `-o default`, so a flag that takes a file name would complete
    // nothing; with it, bash falls back to file names unless the answer says "no files".
    script = script.replace(
      `complete -F __${programName}_complete ${programName}`,
      `complete -o default -F __${programName}_complete ${programName}`,
    );
  }
  return script;
}

/** Whether a flag's value is a path, so the shell should offer file names for it. */
function takesPath(option: CommanderOption): boolean {
  return /<[^>]*(file|path|dir|kubeconfig|credentials)[^>]*>/i.test(option.flags);
}

function takesValue(option: CommanderOption): boolean {
  return option.required || option.optional;
}

function addOptions(
  target: TabCommand,
  options: readonly CommanderOption[],
  values: CompletionValues,
  commandPath: string,
): void {
  for (const option of options) {
    const long = option.long?.replace(/^--/, "");
    if (!long) continue;
    const short = option.short?.replace(/^-/, "");
    const alias = short && !short.startsWith("-") ? short : undefined;
    if (!takesValue(option)) {
      target.option(long, option.description, alias);
      continue;
    }
    const choices = option.argChoices ?? [];
    const dynamic = valuesForOption(long, commandPath, values);
    target.option(long, option.description, (complete) => {
      for (const choice of choices) complete(choice, "");
      for (const c of dynamic) complete(c.value, shownDescription(c));
    }, alias);
  }
}

function valuesForOption(long: string, commandPath: string, values: CompletionValues): Candidate[] {
  if (long === "context") return values.contexts;
  if (long === "id" && commandPath.split(" ")[0] === "tunnel") return values.tunnelIds;
  return [];
}

function valuesForArgument(
  name: string,
  commandPath: string,
  values: CompletionValues,
): Candidate[] {
  const group = commandPath.split(" ")[0];
  if (["ctx", "context"].includes(group) && /^(context|name|ref)$/.test(name)) {
    return values.contexts;
  }
  if (group === "tunnel" && /^(id|tunnel)$/.test(name)) return values.tunnelIds;
  return [];
}

function addArguments(target: TabCommand, cmd: Command, values: CompletionValues, path: string) {
  for (const argument of cmd.registeredArguments) {
    const choices = argument.argChoices ?? [];
    const dynamic = valuesForArgument(argument.name(), path, values);
    if (choices.length === 0 && dynamic.length === 0) {
      target.argument(argument.name(), undefined, argument.variadic);
      continue;
    }
    target.argument(argument.name(), (complete) => {
      for (const choice of choices) complete(choice, "");
      for (const c of dynamic) complete(c.value, shownDescription(c));
    }, argument.variadic);
  }
}

/**
 * Mirrors the commander tree into tab's model: every visible command as its space-separated
 * path, its flags plus the root's global flags (commander accepts those after a subcommand),
 * its arguments.
 */
async function buildModel(
  program: Command,
  values: CompletionValues,
): Promise<RootCommand> {
  const root = await newRoot();
  const help = program.createHelp();
  const globals = help.visibleOptions(program).filter((o) => o.long !== "--version");
  addOptions(root, help.visibleOptions(program), values, "");
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of help.visibleCommands(cmd)) {
      const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
      const node = root.command(path, sub.summary() || sub.description());
      const own = help.visibleOptions(sub);
      const ownLongs = new Set(own.map((o) => o.long));
      addOptions(node, [...own, ...globals.filter((g) => !ownLongs.has(g.long))], values, path);
      addArguments(node, sub, values, path);
      walk(sub, path);
    }
  };
  walk(program, "");
  return root;
}

/** The flag whose value the last word is, if any (`--flag <TAB>`, `--flag=<TAB>`, `-f <TAB>`). */
function flagBeingValued(words: string[]): string | undefined {
  const current = words.at(-1) ?? "";
  if (current.startsWith("--") && current.includes("=")) return current.split("=")[0];
  const previous = words.at(-2);
  return previous?.startsWith("-") && !previous.includes("=") ? previous : undefined;
}

/** The option `flag` names for the command the words select (its own, else the root's). */
function findFlag(program: Command, words: string[], flag: string): CommanderOption | undefined {
  let cmd = program;
  for (const word of words) {
    if (word.startsWith("-")) continue;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    cmd = sub;
  }
  const matches = (o: CommanderOption) => o.long === flag || o.short === flag;
  return cmd.options.find(matches) ?? program.options.find(matches);
}

/**
 * Answers one completion request. `words` are what the shell passes after `complete --`: the
 * words typed after the program name, the last one being the word under the cursor ("" for
 * a new word).
 */
export async function completeWords(
  program: Command,
  words: string[],
  values: CompletionValues,
): Promise<string> {
  const root = await buildModel(program, values);
  let answer = captureConsole(() => root.parse([...words]));
  const flag = flagBeingValued(words);
  const before = words.slice(0, (words.at(-1) ?? "").startsWith(`${flag}=`) ? -1 : -2);
  const option = flag ? findFlag(program, before, flag) : undefined;
  if (option && takesValue(option) && takesPath(option)) {
    // Nothing to offer but files: let the shell list them.
    answer = answer.replace(new RegExp(`:${NO_FILE_COMPLETION}\\n$`), `:${FILE_COMPLETION}\n`);
  }
  return answer;
}
