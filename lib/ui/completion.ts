/**
 * Shell completion: the scripts a shell sources (written by `@bomb.sh/tab`) and the answer to
 * one TAB press (`value<TAB>description` lines, then `:<directive>`), computed here by the same
 * rules tab's parser follows, from the command tree as plain data ({@link CommandTree}), so a
 * TAB loads neither commander nor tab. The tree is whatever commander built (or a cached copy
 * of it), so every command, subcommand and flag any group registers is completed without a
 * list kept here. Values that cost nothing to find (context names, locally known tunnel ids)
 * come in through {@link CompletionValues}.
 */
import type { Command, Option as CommanderOption } from "commander";
import type { RootCommand } from "@bomb.sh/tab";
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
  /** Refs (`org/project`) of the active login's contexts, as `ctx` shows them (`ctx use`). */
  contextRefs?: Candidate[];
  /** Resource types from the discovery cache (the TYPE of `get`, `describe`, …). */
  resourceTypes?: Candidate[];
  /** Names of this machine's named tunnels (for `--name` under `tunnel`). */
  tunnelNames?: Candidate[];
}

/** Output formats a `-o` description may name, in the order they are offered. */
const OUTPUT_FORMATS = [
  "table",
  "wide",
  "text",
  "json",
  "yaml",
  "name",
  "token",
  "jsonpath=",
  "custom-columns=",
  "client.authentication.k8s.io/v1",
];

/** The formats an `-o` flag's description lists (`"table|wide|json"`, `"json or yaml"`). */
function outputFormats(description: string): Candidate[] {
  const words = new Set(description.split(/[\s|,]+/).map((w) => w.replace(/(=.*)$/, "=")));
  return OUTPUT_FORMATS.filter((f) => words.has(f)).map((value) => ({ value }));
}

/** Verbs whose first argument is a resource type. */
export const TYPE_VERBS = [
  "get",
  "describe",
  "delete",
  "edit",
  "explain",
  "patch",
  "label",
  "annotate",
  "wait",
];

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
    // ':' is in COMP_WORDBREAKS, so readline replaces only the part after the last ':' (session
    // names have host:port in them): strip what is before it from each answer, as
    // bash-completion's own scripts do.
    script = script.replace(
      `    COMPREPLY=( $(compgen -W "\${completions[*]}" -- "$cur") )\n`,
      `    COMPREPLY=( $(compgen -W "\${completions[*]}" -- "$cur") )\n` +
        `    if declare -F __ltrim_colon_completions >/dev/null; then\n` +
        `        __ltrim_colon_completions "$cur"\n` +
        `    fi\n`,
    );
  }
  if (shell === "zsh") {
    // _describe splits value from description at the first unescaped ':'; tab's `\:` is just
    // ':' in zsh's replacement text, so a value with host:port was cut there. `\\:` escapes it.
    script = script.replace("comp=${comp//:/\\:}", "comp=${comp//:/\\\\:}");
  }
  return script;
}

/** One flag of a {@link CommandTree} node, as commander describes it. */
export interface TreeOption {
  /** As declared, e.g. `-o, --output <format>`. */
  flags: string;
  long?: string;
  short?: string;
  description: string;
  takesValue: boolean;
  choices?: string[];
}

/** One positional argument of a {@link CommandTree} node. */
export interface TreeArgument {
  name: string;
  variadic: boolean;
  choices?: string[];
}

/**
 * The command tree as plain data (JSON-safe), so a TAB can be answered from a cached copy
 * without loading commander and every command module.
 */
export interface CommandTree {
  name: string;
  aliases: string[];
  /** The summary, else the description. */
  description: string;
  /** False for a hidden command: accepted, never offered. */
  visible: boolean;
  /** The flags `--help` lists (the help flag included), in its order. */
  options: TreeOption[];
  /** Hidden flags: accepted, never offered. */
  hiddenOptions: TreeOption[];
  arguments: TreeArgument[];
  /** Subcommands: the ones `--help` lists, in its order, then the hidden ones. */
  commands: CommandTree[];
}

function treeOption(option: CommanderOption): TreeOption {
  return {
    flags: option.flags,
    long: option.long,
    short: option.short,
    description: option.description,
    takesValue: option.required || option.optional,
    ...(option.argChoices ? { choices: [...option.argChoices] } : {}),
  };
}

/** Copies commander's tree into a {@link CommandTree}. */
export function commandTree(cmd: Command): CommandTree {
  const help = cmd.createHelp();
  const visibleOptions = help.visibleOptions(cmd);
  const visibleCommands = help.visibleCommands(cmd);
  const hiddenCommands = cmd.commands.filter((c) => !visibleCommands.includes(c));
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: cmd.summary() || cmd.description(),
    visible: true,
    options: visibleOptions.map(treeOption),
    hiddenOptions: cmd.options.filter((o) => !visibleOptions.includes(o)).map(treeOption),
    arguments: cmd.registeredArguments.map((a) => ({
      name: a.name(),
      variadic: a.variadic,
      ...(a.argChoices ? { choices: [...a.argChoices] } : {}),
    })),
    commands: [
      ...visibleCommands.map(commandTree),
      ...hiddenCommands.map((c) => ({ ...commandTree(c), visible: false })),
    ],
  };
}

/** Whether a flag's value is a path, so the shell should offer file names for it. */
function takesPath(option: TreeOption): boolean {
  return /<[^>]*(file|path|dir|kubeconfig|credentials)[^>]*>/i.test(option.flags);
}

/** A flag as the completion model holds it: keyed by its long name without dashes. */
interface ModelOption {
  description: string;
  alias?: string;
  isBoolean: boolean;
  /** What `--flag <TAB>` offers (set for every flag that takes a value). */
  values?: Candidate[];
}

interface ModelArgument {
  variadic: boolean;
  /** What a TAB at this position offers; undefined when nothing is known. */
  values?: Candidate[];
}

interface ModelCommand {
  /** The space-separated command path ("" for the root). */
  path: string;
  description: string;
  options: Map<string, ModelOption>;
  arguments: Map<string, ModelArgument>;
}

interface Model {
  root: ModelCommand;
  /** Every visible command by path, depth first. */
  commands: Map<string, ModelCommand>;
}

function newCommand(path: string, description: string): ModelCommand {
  return { path, description, options: new Map(), arguments: new Map() };
}

function addOptions(
  target: ModelCommand,
  options: readonly TreeOption[],
  values: CompletionValues,
  commandPath: string,
): void {
  for (const option of options) {
    const long = option.long?.replace(/^--/, "");
    if (!long) continue;
    const short = option.short?.replace(/^-/, "");
    const alias = short && !short.startsWith("-") ? short : undefined;
    if (!option.takesValue) {
      target.options.set(long, { description: option.description, alias, isBoolean: true });
      continue;
    }
    const offered: Candidate[] = [
      ...(option.choices ?? []).map((value) => ({ value, description: "" })),
      ...(long === "output"
        ? outputFormats(option.description)
        : valuesForOption(long, commandPath, values)),
    ];
    target.options.set(long, {
      description: option.description,
      alias,
      isBoolean: false,
      values: offered,
    });
  }
}

function valuesForOption(long: string, commandPath: string, values: CompletionValues): Candidate[] {
  if (long === "context") return [...(values.contextRefs ?? []), ...values.contexts];
  if (long === "name" && commandPath.split(" ")[0] === "tunnel") return values.tunnelNames ?? [];
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
    return values.contextRefs?.length ? values.contextRefs : values.contexts;
  }
  if (TYPE_VERBS.includes(commandPath) && /^type/.test(name)) return values.resourceTypes ?? [];
  if (group === "tunnel" && name === "name") return values.tunnelNames ?? [];
  if (group === "tunnel" && /^(id|tunnel)$/.test(name)) return values.tunnelIds;
  return [];
}

function addArguments(
  target: ModelCommand,
  cmd: CommandTree,
  values: CompletionValues,
  path: string,
) {
  for (const argument of cmd.arguments) {
    const offered: Candidate[] = [
      ...(argument.choices ?? []).map((value) => ({ value, description: "" })),
      ...valuesForArgument(argument.name, path, values),
    ];
    target.arguments.set(argument.name, {
      variadic: argument.variadic,
      values: offered.length > 0 ? offered : undefined,
    });
  }
}

/**
 * The completion model of the tree: every visible command as its space-separated path, its
 * flags plus the root's global flags (commander accepts those after a subcommand), its
 * arguments.
 */
function buildModel(program: CommandTree, values: CompletionValues): Model {
  const root = newCommand("", "");
  const commands = new Map<string, ModelCommand>();
  const globals = program.options.filter((o) => o.long !== "--version");
  addOptions(root, program.options, values, "");
  const walk = (cmd: CommandTree, prefix: string) => {
    for (const sub of cmd.commands) {
      if (!sub.visible) continue;
      const path = prefix ? `${prefix} ${sub.name}` : sub.name;
      const node = newCommand(path, sub.description);
      commands.set(path, node);
      const ownLongs = new Set(sub.options.map((o) => o.long));
      addOptions(
        node,
        [...sub.options, ...globals.filter((g) => !ownLongs.has(g.long))],
        values,
        path,
      );
      addArguments(node, sub, values, path);
      walk(sub, path);
    }
  };
  walk(program, "");
  return { root, commands };
}

/** The flag `word` names on `cmd`: by long name, with or without dashes, or by its alias. */
function modelOption(cmd: ModelCommand, word: string): ModelOption | undefined {
  const found = cmd.options.get(word) ?? cmd.options.get(word.replace(/^-+/, ""));
  if (found) return found;
  for (const option of cmd.options.values()) {
    if (option.alias && `-${option.alias}` === word) return option;
  }
  return undefined;
}

/** The flag `word` names on the root, else on the first command that has one. */
function anyOption(model: Model, word: string): ModelOption | undefined {
  const own = modelOption(model.root, word);
  if (own) return own;
  for (const cmd of model.commands.values()) {
    const found = modelOption(cmd, word);
    if (found) return found;
  }
  return undefined;
}

/** The words that are not flags or flag values. */
function operands(model: Model, words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length;) {
    const word = words[i++];
    if (!word.startsWith("-")) {
      out.push(word);
      continue;
    }
    const isBoolean = anyOption(model, word)?.isBoolean ?? false;
    // A flag that takes a value swallows the next word unless that is a flag too.
    if (!isBoolean && i < words.length && !words[i].startsWith("-")) i++;
  }
  return out;
}

/** The deepest command the leading operands name, else the root. */
function matchCommand(model: Model, words: string[]): ModelCommand {
  const path: string[] = [];
  let matched: ModelCommand | undefined;
  for (const word of operands(model, words)) {
    path.push(word);
    const cmd = model.commands.get(path.join(" "));
    if (!cmd) break;
    matched = cmd;
  }
  return matched ?? model.root;
}

function shouldCompleteFlags(model: Model, previous: string | undefined, current: string) {
  if (current.startsWith("-")) return true;
  if (!previous?.startsWith("-")) return false;
  const option = anyOption(model, previous);
  return !(option && option.isBoolean);
}

function flagCandidates(
  cmd: ModelCommand,
  current: string,
  previous: string | undefined,
): Candidate[] {
  let valued: string | undefined;
  if (current.includes("=")) valued = current.split("=")[0];
  else if (previous?.startsWith("-")) {
    const option = modelOption(cmd, previous);
    if (option && !option.isBoolean) valued = previous;
  }
  if (valued) return modelOption(cmd, valued)?.values ?? [];
  const out: Candidate[] = [];
  if (!current.startsWith("-")) return out;
  const short = !current.startsWith("--");
  const typed = current.replace(/^-+/, "");
  for (const [name, option] of cmd.options) {
    if (short) {
      if (option.alias && `-${option.alias}`.startsWith(current)) {
        out.push({ value: `-${option.alias}`, description: option.description });
      }
    } else if (name.startsWith(typed)) {
      out.push({ value: `--${name}`, description: option.description });
    }
  }
  return out;
}

function commandCandidates(model: Model, previous: string[], current: string): Candidate[] {
  const typed = operands(model, previous);
  const out: Candidate[] = [];
  for (const [path, cmd] of model.commands) {
    const parts = path.split(" ");
    const under = parts.slice(0, typed.length).every((part, i) => part === typed[i]);
    const next = parts[typed.length];
    if (under && next?.startsWith(current)) out.push({ value: next, description: cmd.description });
  }
  return out;
}

function argumentCandidates(model: Model, cmd: ModelCommand, previous: string[]): Candidate[] {
  const args = [...cmd.arguments.values()];
  if (args.length === 0) return [];
  const index = Math.max(0, operands(model, previous).length - cmd.path.split(" ").length);
  const last = args[args.length - 1];
  const argument = index < args.length ? args[index] : last.variadic ? last : undefined;
  return argument?.values ?? [];
}

/**
 * The answer to `words` (the word under the cursor last): `value<TAB>description` lines of the
 * candidates that start with that word, then the directive line. The rules are those of the
 * shell scripts' protocol (cobra's `__complete`, as `@bomb.sh/tab` answers it).
 */
function answer(model: Model, words: string[]): string {
  const rest = [...words];
  const endsWithNew = rest.at(-1) === "";
  if (endsWithNew) rest.pop();
  let current = rest.at(-1) ?? "";
  const previous = rest.slice(0, -1);
  if (endsWithNew) {
    if (current !== "") previous.push(current);
    current = "";
  }
  const cmd = matchCommand(model, previous);
  const last = previous.at(-1);
  let candidates: Candidate[];
  if (shouldCompleteFlags(model, last, current)) {
    candidates = flagCandidates(cmd, current, last);
  } else {
    candidates = current.startsWith("-") ? [] : commandCandidates(model, previous, current);
    candidates.push(...argumentCandidates(model, cmd, previous));
  }
  const typed = current.includes("=") ? current.split("=")[1] : current;
  const seen = new Set<string>();
  let out = "";
  for (const c of candidates) {
    if (seen.has(c.value)) continue;
    seen.add(c.value);
    if (c.value.startsWith(typed)) out += `${c.value}\t${shownDescription(c)}\n`;
  }
  return out + `:${NO_FILE_COMPLETION}\n`;
}

/** The flag whose value the last word is, if any (`--flag <TAB>`, `--flag=<TAB>`, `-f <TAB>`). */
function flagBeingValued(words: string[]): string | undefined {
  const current = words.at(-1) ?? "";
  if (current.startsWith("--") && current.includes("=")) return current.split("=")[0];
  const previous = words.at(-2);
  return previous?.startsWith("-") && !previous.includes("=") ? previous : undefined;
}

/** The option `flag` names for the command the words select (its own, else the root's). */
function findFlag(program: CommandTree, words: string[], flag: string): TreeOption | undefined {
  let cmd = program;
  for (const word of words) {
    if (word.startsWith("-")) continue;
    const sub = cmd.commands.find((c) => c.name === word || c.aliases.includes(word));
    if (!sub) break;
    cmd = sub;
  }
  const matches = (o: TreeOption) => o.long === flag || o.short === flag;
  const own = [...cmd.options, ...cmd.hiddenOptions];
  return own.find(matches) ?? [...program.options, ...program.hiddenOptions].find(matches);
}

/**
 * Answers one completion request. `words` are what the shell passes after `complete --`: the
 * words typed after the program name, the last one being the word under the cursor ("" for
 * a new word).
 */
export function completeWords(
  program: Command | CommandTree,
  words: string[],
  values: CompletionValues,
): Promise<string> {
  const tree = "createHelp" in program ? commandTree(program) : program;
  let text = answer(buildModel(tree, values), words);
  const flag = flagBeingValued(words);
  const before = words.slice(0, (words.at(-1) ?? "").startsWith(`${flag}=`) ? -1 : -2);
  const option = flag ? findFlag(tree, before, flag) : undefined;
  if (option && option.takesValue && takesPath(option)) {
    // Nothing to offer but files: let the shell list them.
    text = text.replace(new RegExp(`:${NO_FILE_COMPLETION}\\n$`), `:${FILE_COMPLETION}\n`);
  }
  return Promise.resolve(text);
}
