/**
 * The top-level command groups: the names argv selects each by and the modules that register
 * it. Plain data, so main.ts can pick the one group a command line needs before loading
 * commander or any command module, and scripts/compile.ts can embed every module (they are
 * imported by computed specifiers, which `deno compile` does not follow on its own).
 *
 * The order here is the order of `datumctl --help`.
 */

/** One top-level command group. */
export interface CommandGroup {
  /** Top-level command names and aliases the group registers. */
  names: string[];
  /** Modules (relative to commands/) whose `register` builds it, called in this order. */
  modules: string[];
  /** Registered for every command line (the update notice hooks every command). */
  always?: boolean;
  /** Needs every other group registered too (completion walks the whole tree). */
  wholeTree?: boolean;
}

/** Every group, in help order. */
export const COMMAND_GROUPS: CommandGroup[] = [
  { names: ["login"], modules: ["./auth/login.ts"] },
  { names: ["logout"], modules: ["./auth/logout.ts"] },
  { names: ["whoami"], modules: ["./auth/whoami.ts"] },
  { names: ["auth"], modules: ["./auth/auth.ts"] },
  { names: ["ctx", "context"], modules: ["./ctx/ctx.ts"] },
  {
    names: [
      "get",
      "describe",
      "create",
      "apply",
      "diff",
      "delete",
      "edit",
      "patch",
      "label",
      "annotate",
      "wait",
      "api-resources",
      "api-versions",
      "explain",
    ],
    // One module per verb; label.ts registers annotate too.
    modules: [
      "./resources/get.ts",
      "./resources/describe.ts",
      "./resources/create.ts",
      "./resources/apply.ts",
      "./resources/diff.ts",
      "./resources/delete.ts",
      "./resources/edit.ts",
      "./resources/api-resources.ts",
      "./resources/api-versions.ts",
      "./resources/explain.ts",
      "./resources/patch.ts",
      "./resources/label.ts",
      "./resources/wait.ts",
    ],
  },
  { names: ["api"], modules: ["./api/proxy.ts"] },
  // The index creates the group and hands it to each module that adds to it.
  { names: ["tunnel"], modules: ["./tunnel/index.ts"] },
  { names: ["mcp"], modules: ["./mcp/mcp.ts"] },
  { names: ["completion", "complete"], modules: ["./completion/completion.ts"], wholeTree: true },
  { names: ["update"], modules: ["./update/update.ts"], always: true },
  { names: ["version"], modules: ["./version/version.ts"] },
  { names: ["config"], modules: ["./config/config.ts"] },
];

/**
 * Every datumctl module imported by a computed specifier (relative to commands/), the groups'
 * modules included: `deno compile` embeds only what it can see, so scripts/compile.ts passes
 * each with `--include`.
 */
export const COMPUTED_IMPORTS: string[] = [
  "./program.ts",
  ...COMMAND_GROUPS.flatMap((g) => g.modules),
  "./command-context.ts",
  "./auth/get-token.ts",
  "./bare-invocation.ts",
  "./tree-cache.ts",
  "./completion/values.ts",
  "../lib/ui/completion.ts",
  "../lib/store/config.ts",
  "../lib/store/paths.ts",
  "../lib/store/credentials.ts",
  "../lib/yaml.ts",
  "../lib/api/trace.ts",
  "../lib/scope/login-check.ts",
  "../lib/ui/prompter.ts",
  "../lib/scope/contexts.ts",
  "../lib/store/active-session.ts",
  "../lib/tunnel/daemon/record.ts",
  "../lib/resources/type-names.ts",
  "../lib/tunnel/state.ts",
  "../lib/resources/manifests.ts",
  "../lib/resources/edit.ts",
  "../lib/resources/diff.ts",
  "../lib/auth/revoke.ts",
];

/**
 * The npm packages imported by a computed specifier somewhere (deno.json import names), which
 * scripts/compile.ts embeds with `--include npm:…` for the same reason.
 */
export const COMPUTED_NPM_IMPORTS: string[] = [
  "yaml",
  "@inquirer/prompts",
  "jose",
  "@napi-rs/keyring",
  "string-width",
];

/** The root flags that take a value, so a flag's value is not taken for the command name. */
const ROOT_VALUE_FLAGS = ["--error-format", "--context", "--project", "--organization"];

/** The top-level command argv names (the one `help NAME` names), if any. */
export function commandName(args: string[]): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    if (args[i] === "--") break;
    if (ROOT_VALUE_FLAGS.includes(args[i])) i++;
    else if (!args[i].startsWith("-")) words.push(args[i]);
  }
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * The groups a command line needs: the one its command name selects and the always-on ones;
 * all of them for the root help, an unknown name (its "Did you mean" weighs every name) and
 * completion. Without `args`, all of them.
 */
export function groupsFor(args?: string[]): CommandGroup[] {
  const name = args && commandName(args);
  const group = name === undefined ? undefined : COMMAND_GROUPS.find((g) => g.names.includes(name));
  if (!group || group.wholeTree) return COMMAND_GROUPS;
  return COMMAND_GROUPS.filter((g) => g === group || g.always);
}
