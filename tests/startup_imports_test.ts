/**
 * The start-up budget, kept by module counts rather than timings (docs/performance.md has the
 * timings these stand for): each hot command — `--version`, `--help`, a TAB, `ctx`, `whoami`,
 * `auth get-token` (kubectl runs it before every call) and `get` — loads no npm package and at
 * most a budgeted number of modules, counted on the import graph Deno builds for it.
 *
 * Checked twice: statically (`deno info` of the modules the fast path imports for the command:
 * their static imports are executed, their literal `import()`s are read and resolved by Deno
 * as it loads them, so both count), and at run time (strace lists every file each command
 * opens: no heavy package, no datumctl module outside the counted graph, and no more modules
 * run than budgeted, counting those a literal `import()` the run takes brings in, which the
 * static count cannot see).
 */
import assert from "node:assert/strict";
import { seedLoggedInHome } from "../bench/startup.ts";
import { COMPUTED_IMPORTS } from "../commands/groups.ts";
import { cliCommand, isolatedEnv, makeHome } from "./support/cli.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** npm packages that only commands which need them may load. */
const HEAVY_NPM =
  /^npm:\/?(oauth4webapi|@napi-rs\/keyring|@inquirer\/|@modelcontextprotocol\/|oidc-provider)/;

/** The same packages as folders under node_modules/.deno, and any native addon. */
const HEAVY_FILE =
  /node_modules\/\.deno\/(oauth4webapi|@napi-rs\+keyring[^/]*|@inquirer\+[^/]*|@modelcontextprotocol\+[^/]*|oidc-provider)@[^/]+\/.*\.(m?js|cjs|json|node)$|\.node$/;

/**
 * Each hot command: its argv, the modules commands/fast-path.ts imports for it (besides
 * main.ts), and its budget: the most modules of datumctl it may run (`executed`: its static
 * graph, and at run time every module it loads, a literal `import()` it takes included) and
 * hold in its graph (`total`: with every literal `import()`, which Deno reads and resolves as
 * it loads). `server`: the command asks the API, so only its graph is checked here (the bench
 * times it against the local stack). Raising a budget is a decision: measure it with
 * `deno task bench startup` first (docs/performance.md has the figures these stand for).
 */
const HOT_COMMANDS: {
  argv: string[];
  entries: string[];
  budget: { executed: number; total: number };
  server?: boolean;
}[] = [
  { argv: ["--version"], entries: [], budget: { executed: 8, total: 8 } },
  { argv: ["--help"], entries: ["commands/tree-cache.ts"], budget: { executed: 10, total: 12 } },
  {
    // Runs the config's modules too, for the context names.
    argv: ["complete", "--", "ctx", "use", ""],
    entries: [
      "commands/tree-cache.ts",
      "lib/ui/completion.ts",
      "commands/completion/values.ts",
      "lib/scope/contexts.ts",
      "lib/store/active-session.ts",
      "lib/resources/type-names.ts",
    ],
    budget: { executed: 19, total: 21 },
  },
  { argv: ["ctx"], entries: ["commands/ctx/ctx.ts"], budget: { executed: 33, total: 42 } },
  {
    // --offline: the config-only path.
    argv: ["whoami", "--offline"],
    entries: ["commands/auth/whoami.ts", "commands/command-context.ts"],
    budget: { executed: 33, total: 36 },
  },
  {
    argv: ["auth", "get-token", "-o", "client.authentication.k8s.io/v1"],
    entries: ["commands/auth/get-token.ts"],
    budget: { executed: 26, total: 30 },
  },
  {
    // Plain whoami asks the server whether the login still works.
    argv: ["whoami"],
    entries: ["commands/auth/whoami.ts", "commands/command-context.ts", "lib/scope/login-check.ts"],
    budget: { executed: 36, total: 39 },
    server: true,
  },
  {
    argv: ["get", "connectors"],
    entries: ["commands/resources/get.ts"],
    budget: { executed: 16, total: 55 },
    server: true,
  },
];

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

interface Graph {
  modules: Map<string, GraphModule>;
  redirects: Record<string, string>;
}

const graphs = new Map<string, Graph>();

async function graphOf(entry: string): Promise<Graph> {
  const known = graphs.get(entry);
  if (known) return known;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: GraphModule[];
    redirects: Record<string, string>;
  };
  const graph = {
    modules: new Map(info.modules.map((m) => [m.specifier, m])),
    redirects: info.redirects,
  };
  graphs.set(entry, graph);
  return graph;
}

/** The specifiers the entries import: statically only, or with literal `import()`s too. */
async function closure(entries: string[], withDynamic: boolean): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const entry of ["main.ts", ...entries]) {
    const graph = await graphOf(entry);
    const queue = [`file://${ROOT}/${entry}`];
    while (queue.length > 0) {
      let specifier = queue.shift()!;
      specifier = graph.redirects[specifier] ?? specifier;
      if (seen.has(specifier)) continue;
      seen.add(specifier);
      for (const dep of graph.modules.get(specifier)?.dependencies ?? []) {
        // Type-only imports have no `code`.
        if (dep.code && (withDynamic || !dep.isDynamic)) queue.push(dep.code.specifier);
      }
    }
  }
  return seen;
}

const local = (specifiers: Set<string>) =>
  [...specifiers].filter((s) => s.startsWith(`file://${ROOT}/`));

Deno.test("each hot command loads no npm package and stays within its module budget", async () => {
  for (const { argv, entries, budget } of HOT_COMMANDS) {
    const name = `datumctl ${argv.join(" ")}`;
    const executed = await closure(entries, false);
    const all = await closure(entries, true);
    const npm = [...executed].filter((s) => s.startsWith("npm:") || s.startsWith("node:"));
    assert.deepEqual(npm, [], `${name} imports these statically; move them behind import()`);
    assert.deepEqual([...all].filter((s) => HEAVY_NPM.test(s) && executed.has(s)), []);
    assert.ok(
      local(executed).length <= budget.executed,
      `${name} executes ${local(executed).length} modules, budget ${budget.executed}:\n` +
        local(executed).join("\n"),
    );
    assert.ok(
      local(all).length <= budget.total,
      `${name} has ${local(all).length} modules in its graph, budget ${budget.total}:\n` +
        local(all).join("\n"),
    );
  }
});

Deno.test("main.ts's own graph is the entry and the fast path, nothing else", async () => {
  const all = local(await closure([], true)).map((s) => s.slice(`file://${ROOT}/`.length));
  assert.deepEqual(all.sort(), [
    "commands/fast-path.ts",
    "deno.json",
    "lib/core/errors.ts",
    "lib/core/io.ts",
    "lib/core/notes.ts",
    "lib/ui/error-output.ts",
    "lib/ui/terminal-text.ts",
    "main.ts",
  ]);
});

Deno.test("every computed import is listed for deno compile, and exists", async () => {
  const specifiers: string[] = [];
  const files = ["main.ts"];
  for (const dir of ["commands", "lib"]) {
    const walk = async (d: string) => {
      for await (const e of Deno.readDir(`${ROOT}/${d}`)) {
        if (e.isDirectory) await walk(`${d}/${e.name}`);
        else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
          files.push(`${d}/${e.name}`);
        }
      }
    };
    await walk(dir);
  }
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    const base = new URL(file, `file://${ROOT}/`);
    for (const m of text.matchAll(/import\w*Module<[^>]*>\(\s*"(\.[^"]+)"/g)) {
      specifiers.push(new URL(m[1], base).pathname);
    }
    for (const m of text.matchAll(/const specifier = "(\.[^"]+)"/g)) {
      specifiers.push(new URL(m[1], base).pathname);
    }
  }
  assert.ok(specifiers.length >= 10, `found only ${specifiers.length} computed imports`);
  const listed = new Set(
    COMPUTED_IMPORTS.map((m) => new URL(m, `file://${ROOT}/commands/`).pathname),
  );
  for (const path of specifiers) {
    assert.ok(
      listed.has(path),
      `${path} is imported by a computed specifier but not in COMPUTED_IMPORTS`,
    );
  }
  for (const path of listed) await Deno.stat(path);
});

let cachedDenoDir: string | undefined;

async function denoDir(): Promise<string> {
  if (cachedDenoDir) return cachedDenoDir;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  cachedDenoDir = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  return cachedDenoDir;
}

/** The files a datumctl run opened, from strace. */
async function filesOpened(
  args: string[],
  home: string,
): Promise<{ code: number; files: string[] }> {
  const trace = `${home}/strace.txt`;
  const env = isolatedEnv(home, { DATUMCTL_CREDENTIALS_STORE: "file" });
  // A fresh HOME would mean a fresh Deno cache; keep the one this test runs with.
  env.DENO_DIR = await denoDir();
  const out = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-e",
      "trace=open,openat,openat2",
      "-e",
      "signal=none",
      "-o",
      trace,
      ...cliCommand(),
      ...args,
    ],
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = await Deno.readTextFile(trace);
  const files = [...text.matchAll(/open(?:at2?)?\((?:AT_FDCWD, |\d+, )?"([^"]+)"/g)].map((m) =>
    m[1]
  );
  return { code: out.code, files };
}

/**
 * The datumctl modules the run executed: Deno loads a module's compiled copy (its cache under
 * gen/) only to run it, while it reads the source of every module in the graph, so the compiled
 * copies count the modules a literal `import()` the run took brought in as well.
 */
function executedModules(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const m = f.match(new RegExp(`/gen/file${ROOT}/((?:main|commands/|lib/)[^"]*?\\.ts)\\.js$`));
    if (m) out.add(`file://${ROOT}/${m[1]}`);
  }
  return out;
}

/** A datumctl module the run read: its source or Deno's compiled copy of it. */
function datumctlModules(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const m = f.match(
      new RegExp(`(?:^|/gen/file)${ROOT}/((?:main|commands/|lib/)[^"]*?\\.ts)(?:\\.js)?$`),
    );
    if (m && !f.includes("/node_modules/")) out.add(`file://${ROOT}/${m[1]}`);
  }
  return out;
}

Deno.test("the hot commands open no heavy module and no datumctl module outside their budget", async () => {
  const home = await makeHome();
  await seedLoggedInHome(home);
  // The method works: a command that does load a package dynamically shows it.
  const control = await filesOpened(["completion", "bash"], home);
  assert.equal(control.code, 0);
  assert.ok(
    control.files.some((f) => /node_modules\/\.deno\/@bomb\.sh\+tab@[^/]+\/.*\.mjs$/.test(f)),
    "strace did not see the dynamically imported @bomb.sh/tab",
  );
  assert.ok(datumctlModules(control.files).has(`file://${ROOT}/commands/program.ts`));
  // A first TAB and `--help` build the command-tree cache; the runs below read it.
  assert.equal((await filesOpened(["--help"], home)).code, 0);
  for (const { argv, entries, budget, server } of HOT_COMMANDS) {
    if (server) continue; // bench/startup.ts measures it against the local stack
    // Once before, so Deno's compiled copies are in its cache (a first run writes them).
    await filesOpened(argv, home);
    const run = await filesOpened(argv, home);
    const name = `datumctl ${argv.join(" ")}`;
    assert.equal(run.code, 0, `${name} failed`);
    // What ran: the compiled copies loaded, and the static graph (deno.json has no compiled copy).
    const executed = new Set([
      ...executedModules(run.files),
      ...local(await closure(entries, false)),
    ]);
    assert.ok(
      executed.size <= budget.executed,
      `${name} ran ${executed.size} modules, budget ${budget.executed}:\n` +
        [...executed].join("\n"),
    );
    const heavy = run.files.filter((f) =>
      HEAVY_FILE.test(f) || /(@bomb\.sh\+tab|commander)@[^/]+\/.*\.(m?js|cjs)$/.test(f)
    );
    assert.deepEqual(heavy, [], `${name} loaded these`);
    const counted = await closure(entries, true);
    const outside = [...datumctlModules(run.files)].filter((m) => !counted.has(m));
    assert.deepEqual(outside, [], `${name} loaded modules its budget does not count`);
  }
});
