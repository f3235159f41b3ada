/**
 * The hot commands without commander: `--version`, root `--help`, a TAB (`complete -- …`),
 * `ctx`, `whoami`, `auth get-token` (kubectl runs it before every call), `get`, and the bare
 * `datumctl` landing page. Loading
 * commander and the command tree costs several times what these commands do (see
 * docs/performance.md), so main.ts tries this first.
 *
 * It only takes argv it understands completely: the command's own flags and the global ones,
 * each spelt `--flag value`, `--flag=value` or `-f value`. Anything else — `--help` anywhere,
 * an unknown or misspelt flag, a missing value, `--`, extra arguments — is left to commander,
 * which prints the usual error or help. The actions are the same functions the commander
 * commands call, so output and exit codes are the same.
 */
import type { CommandContext, FlagSource } from "./context.ts";

/**
 * `import()` by a computed specifier: `deno run` loads every module a literal `import("…")`
 * names before the program starts, so literal ones here would load every hot command's modules
 * for each of them. scripts/compile.ts embeds these (`COMPUTED_IMPORTS` in ./groups.ts).
 */
function importModule<T>(specifier: string): Promise<T> {
  return import(specifier);
}

/** A flag as the fast path reads it. */
interface Flag {
  long: string;
  short?: string;
  /** The key commander stores it under. */
  key: string;
  takesValue: boolean;
  /** The value a flag without an argument sets (`--no-headers` sets false). */
  set?: boolean;
  choices?: string[];
}

/** The root's flags: accepted before and after the command, as commander does. */
const GLOBAL_FLAGS: Flag[] = [
  { long: "--context", key: "context", takesValue: true },
  { long: "--project", key: "project", takesValue: true },
  { long: "--organization", key: "organization", takesValue: true },
  { long: "--error-format", key: "errorFormat", takesValue: true, choices: ["human", "json"] },
];

const OUTPUT: Flag = { long: "--output", short: "-o", key: "output", takesValue: true };

/** One command line shape the fast path runs. */
interface Route {
  path: string[];
  /** How many words of `path` must come before the command's own flags. */
  flagsAfter: number;
  flags: Flag[];
  maxOperands: number;
  run: (ctx: CommandContext, parsed: Parsed) => Promise<void>;
}

interface Parsed {
  operands: string[];
  opts: Record<string, string | boolean>;
  globals: Record<string, string | boolean>;
}

function flagSource(parsed: Parsed): FlagSource {
  // Commander's optsWithGlobals: the command's options, then the root's over them.
  return { optsWithGlobals: <T>() => ({ ...parsed.opts, ...parsed.globals }) as T };
}

/** Loads the YAML printer when `-o yaml` asks for it (the printers are synchronous). */
async function yamlIfAsked(parsed: Parsed): Promise<void> {
  if (parsed.opts.output === "yaml") {
    const { loadYaml } = await importModule<typeof import("../lib/yaml.ts")>("../lib/yaml.ts");
    await loadYaml();
  }
}

const CTX_FLAGS: Flag[] = [
  { long: "--all", key: "all", takesValue: false },
  { long: "--refresh", key: "refresh", takesValue: false },
  OUTPUT,
];

async function runCtx(ctx: CommandContext, parsed: Parsed): Promise<void> {
  await yamlIfAsked(parsed);
  const { listContexts } = await importModule<typeof import("./ctx.ts")>("./ctx.ts");
  await listContexts(ctx, parsed.opts);
}

async function runWhoami(ctx: CommandContext, parsed: Parsed): Promise<void> {
  await yamlIfAsked(parsed);
  const [{ showWhoami }, { scopeInputs }] = await Promise.all([
    importModule<typeof import("./whoami.ts")>("./whoami.ts"),
    importModule<typeof import("./context.ts")>("./context.ts"),
  ]);
  await showWhoami(ctx, parsed.opts, scopeInputs(flagSource(parsed), ctx.io));
}

async function runGetToken(ctx: CommandContext, parsed: Parsed): Promise<void> {
  const { printToken } = await importModule<typeof import("./auth-token.ts")>("./auth-token.ts");
  await printToken(ctx, { output: "token", ...parsed.opts });
}

const GET_FLAGS: Flag[] = [
  OUTPUT,
  { long: "--selector", short: "-l", key: "selector", takesValue: true },
  { long: "--field-selector", key: "fieldSelector", takesValue: true },
  { long: "--all-namespaces", short: "-A", key: "allNamespaces", takesValue: false },
  { long: "--namespace", short: "-n", key: "namespace", takesValue: true },
  { long: "--show-labels", key: "showLabels", takesValue: false },
  { long: "--no-headers", key: "headers", takesValue: false, set: false },
  { long: "--ignore-not-found", key: "ignoreNotFound", takesValue: false },
];

async function runGet(ctx: CommandContext, parsed: Parsed): Promise<void> {
  await yamlIfAsked(parsed);
  const { get } = await importModule<typeof import("./resources.ts")>("./resources.ts");
  await get(flagSource(parsed), ctx, parsed.operands, parsed.opts);
}

const ROUTES: Route[] = [
  ...["ctx", "context"].flatMap((name): Route[] => [
    { path: [name], flagsAfter: 1, flags: CTX_FLAGS, maxOperands: 0, run: runCtx },
    // The group's flags are also accepted before `list`; the list action merges both.
    ...["list", "ls"].map((list) => ({
      path: [name, list],
      flagsAfter: 1,
      flags: CTX_FLAGS,
      maxOperands: 0,
      run: runCtx,
    })),
  ]),
  {
    path: ["whoami"],
    flagsAfter: 1,
    flags: [OUTPUT, { long: "--offline", key: "offline", takesValue: false, set: true }],
    maxOperands: 0,
    run: runWhoami,
  },
  {
    path: ["auth", "get-token"],
    flagsAfter: 2,
    flags: [OUTPUT, { long: "--session", key: "session", takesValue: true }],
    maxOperands: 0,
    run: runGetToken,
  },
  { path: ["get"], flagsAfter: 1, flags: GET_FLAGS, maxOperands: Infinity, run: runGet },
];

/** Parses `args` as `route`, or undefined when commander should look at them. */
function parseRoute(args: string[], route: Route): Parsed | undefined {
  const parsed: Parsed = { operands: [], opts: {}, globals: {} };
  let matched = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--" || arg === "-h" || arg === "--help" || arg === "--version") return undefined;
    if (arg.startsWith("-") && arg !== "-") {
      const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      const own = matched >= route.flagsAfter ? route.flags : [];
      const flag = [...GLOBAL_FLAGS, ...own].find((f) => f.long === name || f.short === name);
      if (!flag) return undefined;
      const target = GLOBAL_FLAGS.includes(flag) ? parsed.globals : parsed.opts;
      if (!flag.takesValue) {
        if (eq > 0) return undefined;
        target[flag.key] = flag.set ?? true;
        continue;
      }
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith("-"))) return undefined;
      if (flag.choices && !flag.choices.includes(value)) return undefined;
      target[flag.key] = value;
      continue;
    }
    if (matched < route.path.length) {
      if (arg !== route.path[matched]) return undefined;
      matched++;
      continue;
    }
    parsed.operands.push(arg);
  }
  if (matched < route.path.length || parsed.operands.length > route.maxOperands) return undefined;
  return parsed;
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * Whether the once-a-day update notice could run around the command (a release binary writing
 * to a terminal, not switched off): it hangs on commander's hooks, so commander runs those.
 */
function updateNoticeMayRun(ctx: CommandContext): boolean {
  if (!Deno.build.standalone || !ctx.io.stderrIsTTY) return false;
  return !isOn(ctx.io.env("DATUMCTL_NO_UPDATE_CHECK")) && !isOn(ctx.io.env("CI"));
}

type TreeCacheModule = typeof import("./tree-cache.ts");

async function rootHelp(ctx: CommandContext): Promise<boolean> {
  const { helpWidthKey, readTreeCache } = await importModule<TreeCacheModule>("./tree-cache.ts");
  const text = (await readTreeCache(ctx.io, ctx.version))?.help[helpWidthKey()];
  if (text === undefined) return false;
  ctx.io.out(text);
  return true;
}

async function complete(ctx: CommandContext, words: string[]): Promise<boolean> {
  const { readTreeCache } = await importModule<TreeCacheModule>("./tree-cache.ts");
  const tree = (await readTreeCache(ctx.io, ctx.version))?.tree;
  if (!tree) return false;
  const [{ completeWords }, { localValues }] = await Promise.all([
    importModule<typeof import("../lib/ui/completion.ts")>("../lib/ui/completion.ts"),
    importModule<typeof import("./completion-values.ts")>("./completion-values.ts"),
  ]);
  ctx.io.out(await completeWords(tree, words, await localValues(words)));
  return true;
}

/**
 * Runs `args` when it is one of the hot command lines; false when commander must (then
 * nothing was printed). Errors are thrown for main.ts to report, as from a commander action.
 */
export async function runFastPath(args: string[], ctx: CommandContext): Promise<boolean> {
  if (args.length === 0) {
    const { showLanding } = await importModule<typeof import("./bare-datumctl.ts")>(
      "./bare-datumctl.ts",
    );
    await showLanding(ctx);
    return true;
  }
  if (args.length === 1 && args[0] === "--version") {
    ctx.io.out(`datumctl ${ctx.version}\n`);
    return true;
  }
  if (args.length === 1 && ["--help", "-h", "help"].includes(args[0])) return await rootHelp(ctx);
  // The completion scripts call `datumctl complete -- <words>`.
  if (args[0] === "complete" && args[1] === "--") return await complete(ctx, args.slice(2));
  for (const route of ROUTES) {
    if (!args.includes(route.path[0])) continue;
    const parsed = parseRoute(args, route);
    if (!parsed) continue;
    if (updateNoticeMayRun(ctx)) return false;
    await route.run(ctx, parsed);
    return true;
  }
  return false;
}
