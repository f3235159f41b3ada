import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram } from "../main.ts";
import { memoryIO } from "../lib/core/io.ts";
import {
  type Candidate,
  type CommandTree,
  commandTree,
  completeWords,
  completionScript,
  type CompletionValues,
  SHELLS,
  type TreeOption,
} from "../lib/ui/completion.ts";
import { type Command as TabCommand, RootCommand } from "@bomb.sh/tab";
import { emptyConfig, serializeConfig } from "../lib/store/config.ts";
import { cliCommand, isolatedEnv, makeHome, runCli } from "./support/cli.ts";

const NO_VALUES = { contexts: [], tunnelIds: [] };

async function program(): Promise<Command> {
  return await buildProgram({ io: memoryIO(), version: "0.0.0-test" });
}

function values(answer: string): string[] {
  return answer.trim().split("\n").filter((l) => !l.startsWith(":")).map((l) => l.split("\t")[0]);
}

/** Every visible command path of the tree, e.g. "ctx use". */
function commandPaths(cmd: Command, prefix = ""): string[] {
  const help = cmd.createHelp();
  return help.visibleCommands(cmd).filter((c) => c.name() !== "help").flatMap((c) => {
    const path = prefix ? `${prefix} ${c.name()}` : c.name();
    return [path, ...commandPaths(c, path)];
  });
}

async function seedContexts(home: string, names: string[]): Promise<void> {
  const config = emptyConfig();
  config.contexts = names.map((name) => ({ name, session: "alice@example.com@api.test" }));
  await Deno.mkdir(`${home}/.datumctl`, { recursive: true });
  await Deno.writeTextFile(`${home}/.datumctl/config`, await serializeConfig(config));
}

Deno.test("every command of the tree is offered under its parent, none from a fixed list", async () => {
  const root = await program();
  const paths = commandPaths(root);
  assert.ok(paths.includes("completion"));
  for (const path of paths) {
    const words = path.split(" ");
    const typed = [...words.slice(0, -1), ""];
    const answer = await completeWords(root, typed, NO_VALUES);
    assert.ok(values(answer).includes(words.at(-1)!), `'${path}' not offered after '${typed}'`);
  }
  // The hidden request command is never offered.
  assert.ok(!values(await completeWords(root, [""], NO_VALUES)).includes("complete"));
});

Deno.test("flags complete for the command typed, global flags included", async () => {
  const root = await program();
  const answer = values(await completeWords(root, ["completion", "--"], NO_VALUES));
  assert.ok(answer.includes("--help"));
  assert.ok(answer.includes("--context"), "global flags are accepted after a subcommand");
  assert.deepEqual(values(await completeWords(root, ["completion", ""], NO_VALUES)), [
    "bash",
    "zsh",
    "fish",
    "powershell",
  ]);
});

Deno.test("--context offers the context names it is given", async () => {
  const answer = await completeWords(await program(), ["--context", ""], {
    contexts: [{ value: "alice@api/acme-corp" }, { value: "alice@api/acme-corp/infra" }],
    tunnelIds: [],
  });
  assert.deepEqual(values(answer), ["alice@api/acme-corp", "alice@api/acme-corp/infra"]);
  assert.match(answer, /:4\n$/, "no file names after --context");
});

Deno.test("each shell gets a script that calls `datumctl complete --`", async () => {
  for (const shell of SHELLS) {
    const script = await completionScript(shell);
    assert.match(script, /datumctl complete '?--/, shell);
  }
  assert.match(
    await completionScript("bash"),
    /complete -o default -F __datumctl_complete datumctl/,
  );
});

Deno.test("the CLI reads context names from ~/.datumctl/config, without network", async () => {
  const home = await makeHome();
  await seedContexts(home, ["alice@api.test/acme-corp", "alice@api.test/personal"]);
  const res = await runCli(["complete", "--", "--context", "alice@api.test/p"], { home });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, "alice@api.test/personal\talice@example.com@api.test\n:4\n");
  // A broken config gives no names, and TAB still answers.
  await Deno.writeTextFile(`${home}/.datumctl/config`, "contexts: [\n");
  const broken = await runCli(["complete", "--", "--context", ""], { home });
  assert.equal(broken.code, 0);
  assert.equal(broken.stdout, ":4\n");
});

/**
 * The reference: the tree handed to `@bomb.sh/tab`'s own parser, as completion answered before
 * it had its own (a TAB is now answered without loading tab's npm package).
 */
function tabAnswer(tree: CommandTree, words: string[], values: CompletionValues): string {
  const root = new RootCommand();
  const forOption = (long: string, path: string): Candidate[] =>
    long === "context"
      ? values.contexts
      : long === "id" && path.split(" ")[0] === "tunnel"
      ? values.tunnelIds
      : [];
  const forArgument = (name: string, path: string): Candidate[] => {
    const group = path.split(" ")[0];
    if (["ctx", "context"].includes(group) && /^(context|name|ref)$/.test(name)) {
      return values.contexts;
    }
    return group === "tunnel" && /^(id|tunnel)$/.test(name) ? values.tunnelIds : [];
  };
  const addOptions = (target: TabCommand, options: TreeOption[], path: string) => {
    for (const o of options) {
      const long = o.long?.replace(/^--/, "");
      if (!long) continue;
      const short = o.short?.replace(/^-/, "");
      const alias = short && !short.startsWith("-") ? short : undefined;
      if (!o.takesValue) {
        target.option(long, o.description, alias);
        continue;
      }
      target.option(long, o.description, (complete) => {
        for (const c of o.choices ?? []) complete(c, "");
        for (const c of forOption(long, path)) complete(c.value, c.description ?? "");
      }, alias);
    }
  };
  const globals = tree.options.filter((o) => o.long !== "--version");
  addOptions(root, tree.options, "");
  const walk = (cmd: CommandTree, prefix: string) => {
    for (const sub of cmd.commands.filter((c) => c.visible)) {
      const path = prefix ? `${prefix} ${sub.name}` : sub.name;
      const node = root.command(path, sub.description);
      const own = new Set(sub.options.map((o) => o.long));
      addOptions(node, [...sub.options, ...globals.filter((g) => !own.has(g.long))], path);
      for (const a of sub.arguments) {
        const dynamic = forArgument(a.name, path);
        if ((a.choices ?? []).length === 0 && dynamic.length === 0) {
          node.argument(a.name, undefined, a.variadic);
          continue;
        }
        node.argument(a.name, (complete) => {
          for (const c of a.choices ?? []) complete(c, "");
          for (const c of dynamic) complete(c.value, c.description ?? "");
        }, a.variadic);
      }
      walk(sub, path);
    }
  };
  walk(tree, "");
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    root.parse([...words]);
  } finally {
    console.log = log;
  }
  return lines.join("\n") + "\n";
}

/** Word lists around every command: new words, flag prefixes, flag values, positionals. */
function sampleWords(tree: CommandTree): string[][] {
  const out: string[][] = [[], [""], ["-"], ["--"], ["--c"], ["--context", ""], ["--context=a"]];
  const walk = (cmd: CommandTree, path: string[]) => {
    for (const sub of cmd.commands) {
      const here = [...path, sub.name];
      out.push([...here, ""], [...here, "-"], [...here, "--"], [...path, sub.name.slice(0, 1)]);
      out.push([...here, "x", ""], [...here, "x", "y", ""], [...here, "--context", "b", ""]);
      for (const o of [...sub.options, ...sub.hiddenOptions]) {
        for (const flag of [o.long, o.short].filter((f): f is string => !!f)) {
          out.push([...here, flag, ""], [...here, flag, "a"], [...here, `${flag}=`]);
          out.push([...here, flag, "v", ""], [...here, flag, "-"]);
        }
      }
      walk(sub, here);
    }
  };
  walk(tree, []);
  return out;
}

Deno.test("every answer is the one @bomb.sh/tab's parser gives for the same tree", async () => {
  const tree = commandTree(await program());
  const values: CompletionValues = {
    contexts: [{ value: "alice@api/acme-corp", description: "alice" }, { value: "b@api/x" }],
    tunnelIds: [{ value: "t-1", description: "web" }],
  };
  const samples = sampleWords(tree);
  assert.ok(samples.length > 500, `only ${samples.length} samples`);
  for (const words of samples) {
    // `-o` values come from the flag's description (lib/ui/completion.ts's outputFormats), which
    // tab does not know of; tests/completion_shells_test.ts checks them in real shells.
    if (
      ["-o", "--output"].includes(words.at(-2) ?? "") || /^(--output|-o)=/.test(words.at(-1) ?? "")
    ) {
      continue;
    }
    const ours = (await completeWords(tree, words, values)).split("\n");
    const tab = tabAnswer(tree, words, values).split("\n");
    // Flags that take a path end in ":0" (the shell lists files); tab always says ":4".
    assert.deepEqual(ours.slice(0, -2), tab.slice(0, -2), JSON.stringify(words));
    assert.ok([":4", ":0"].includes(ours.at(-2)!), JSON.stringify(words));
  }
});

/** A tmux server on its own socket, torn down by {@link Pty.close}. */
class Pty {
  constructor(readonly socket: string) {}

  static async start(command: string): Promise<Pty> {
    const pty = new Pty(`datumctl-completion-${crypto.randomUUID().slice(0, 8)}`);
    await pty.tmux(["new-session", "-d", "-x", "160", "-y", "40", command]);
    return pty;
  }

  async tmux(args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }

  async type(text: string): Promise<void> {
    await this.tmux(["send-keys", "-l", "--", text]);
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux(["send-keys", ...keys]);
  }

  screen(): Promise<string> {
    return this.tmux(["capture-pane", "-p"]);
  }

  /** Waits until the screen matches; fails with the screen when it never does. */
  async waitFor(pattern: RegExp, what: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (pattern.test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what}: screen never matched ${pattern}:\n${screen}`);
  }

  async close(): Promise<void> {
    await this.tmux(["kill-server"]).catch(() => {});
  }
}

Deno.test("bash completes commands, flags and context names under a real pty", async () => {
  const bashCompletion = "/usr/share/bash-completion/bash_completion";
  assert.ok(
    await Deno.stat(bashCompletion).then(() => true, () => false),
    "the bash-completion package is missing; `deno task test` installs it",
  );
  const home = await makeHome();
  await seedContexts(home, ["alice@api.test/acme-corp/infra", "alice@api.test/personal"]);
  // `datumctl` on PATH runs the sources, the way the installed binary would be found.
  const bin = `${home}/bin`;
  await Deno.mkdir(bin);
  const quoted = cliCommand().map((w) => `'${w}'`).join(" ");
  await Deno.writeTextFile(`${bin}/datumctl`, `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
  const env = isolatedEnv(home, { PATH: `${bin}:${Deno.env.get("PATH")}`, TERM: "xterm" });
  const envArgs = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
  const pty = await Pty.start(`env -i ${envArgs} PS1='$ ' bash --norc --noprofile`);
  try {
    await pty.waitFor(/^\$ ?$/m, "bash prompt");
    await pty.type(`source ${bashCompletion} && source <(datumctl completion bash) && echo READY`);
    await pty.keys("Enter");
    await pty.waitFor(/^READY$/m, "sourcing the script");

    await pty.keys("C-l");
    await pty.type("datumctl compl");
    await pty.keys("Tab");
    await pty.waitFor(/^\$ datumctl completion\s*$/m, "command name");

    await pty.type("--he");
    await pty.keys("Tab");
    await pty.waitFor(/^\$ datumctl completion --help\s*$/m, "flag");

    await pty.keys("C-u");
    await pty.type("datumctl --context alice@api.test/pe");
    await pty.keys("Tab");
    await pty.waitFor(/^\$ datumctl --context alice@api\.test\/personal\s*$/m, "context name");

    // capture-pane drops trailing spaces, so the space after a full match is not seen.
    // Two candidates: the first TAB stops at their common prefix, two more list both.
    await pty.keys("C-u");
    await pty.type("datumctl --context ");
    await pty.keys("Tab");
    await pty.waitFor(/^\$ datumctl --context alice@api\.test\/$/m, "common prefix");
    await pty.keys("Tab", "Tab");
    const screen = await pty.waitFor(/alice@api\.test\/acme-corp\/infra/, "context list");
    assert.match(screen, /alice@api\.test\/personal/);
  } finally {
    await pty.close();
  }
});
