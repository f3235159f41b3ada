/**
 * The start-up budget: `--version`, `--help`, `ctx` (from cache) and `whoami` must not load the
 * tunnel engine, the OIDC client, the keychain addon, the prompt library or the MCP SDK.
 *
 * Checked twice: statically (nothing heavy is reachable from main.ts through static imports:
 * main.ts imports every command module, so a static import anywhere loads for every command),
 * and at run time (strace lists every file each command opens).
 */
import assert from "node:assert/strict";
import { seedLoggedInHome } from "../bench/startup.ts";
import { cliCommand, isolatedEnv, makeHome } from "./support/cli.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** npm packages that only commands which need them may load. */
const HEAVY_NPM =
  /^npm:\/?(oauth4webapi|@napi-rs\/keyring|@inquirer\/|@modelcontextprotocol\/|oidc-provider)/;

/** The same packages as folders under node_modules/.deno, and any native addon. */
const HEAVY_FILE =
  /node_modules\/\.deno\/(oauth4webapi|@napi-rs\+keyring[^/]*|@inquirer\+[^/]*|@modelcontextprotocol\+[^/]*|oidc-provider)@[^/]+\/.*\.(m?js|cjs|json|node)$|\.node$/;

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

async function staticGraph(): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: GraphModule[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const queue = [...info.roots];
  while (queue.length > 0) {
    let specifier = queue.shift()!;
    specifier = info.redirects[specifier] ?? specifier;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      // Type-only imports have no `code`; dynamic imports load only when their line runs.
      if (dep.code && !dep.isDynamic) queue.push(dep.code.specifier);
    }
  }
  return seen;
}

Deno.test("no heavy package is reachable from main.ts through static imports", async () => {
  const reachable = await staticGraph();
  assert.ok(reachable.has(`file://${ROOT}/commands/completion.ts`), "the graph walk found nothing");
  const heavy = [...reachable].filter((s) => HEAVY_NPM.test(s));
  assert.deepEqual(heavy, [], "statically imported; move them behind await import()");
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

Deno.test("--version, --help, ctx and whoami open none of the heavy modules at run time", async () => {
  const home = await makeHome();
  await seedLoggedInHome(home);
  // The method works: a command that does load a package dynamically shows it.
  const control = await filesOpened(["completion", "bash"], home);
  assert.equal(control.code, 0);
  assert.ok(
    control.files.some((f) => /node_modules\/\.deno\/@bomb\.sh\+tab@[^/]+\/.*\.mjs$/.test(f)),
    "strace did not see the dynamically imported @bomb.sh/tab",
  );
  // whoami asks the server unless --offline; the seeded home has no server to ask.
  for (const args of [["--version"], ["--help"], ["ctx"], ["whoami", "--offline"]]) {
    const run = await filesOpened(args, home);
    assert.equal(run.code, 0, `datumctl ${args.join(" ")} failed`);
    const heavy = run.files.filter((f) => HEAVY_FILE.test(f));
    assert.deepEqual(heavy, [], `datumctl ${args.join(" ")} loaded these`);
  }
  // And a plain command does not load @bomb.sh/tab either: only completion needs it.
  const version = await filesOpened(["--version"], home);
  assert.ok(!version.files.some((f) => /@bomb\.sh\+tab@[^/]+\/.*\.mjs$/.test(f)));
});
