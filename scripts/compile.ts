/**
 * `deno task compile`: one self-contained `datumctl` binary per platform, the tunnel engine
 * inside, plus `SHA256SUMS`.
 *
 * Usage:
 *   deno task compile [--target T]... [--engine-dir DIR] [--engine T=PATH]... [--out-dir DIR]
 *                     [--no-check] [--dry-run]
 *
 * - `--target` picks `deno compile` targets (repeatable; `all` or none = every target we ship).
 * - The engine for each target is `<engine-dir>/datumctl_engine.<os>-<arch>.node` (default
 *   `engine/dist`), or the file given with `--engine <target>=<path>`. For the host target a
 *   missing module is built with `scripts/engine.ts`; other targets need a module built on
 *   their own platform (the release workflow does that).
 * - `DENORT_BIN` (a pre-fetched `denort` of Deno 2.9.6 for ONE target) is passed through to
 *   `deno compile`, so the compile works offline; with it, name exactly one `--target`.
 * - `--dry-run` prints every command it would run and runs none.
 *
 * There is no musl binary: `deno compile` 2.9.6 offers only glibc Linux targets, because Deno
 * publishes `denort` for glibc only. A musl build of the engine would not help, the runtime
 * around it still needs glibc. install.sh says so on a musl system.
 *
 * The tests check the plan of commands, which is built without running anything; run as a script,
 * this module carries the plan out.
 */
import {
  assetName,
  RELEASE_TARGETS,
  type ReleaseTarget,
  SUMS_FILE,
  targetFor,
} from "../lib/release/platform.ts";
import { formatSums, sha256Hex } from "../lib/release/checksums.ts";
import { engineFileName as engineFileNameFor } from "../lib/tunnel/engine.ts";
import { COMPUTED_IMPORTS, COMPUTED_NPM_IMPORTS } from "../commands/groups.ts";
import denoJson from "../deno.json" with { type: "json" };

/**
 * The modules datumctl imports by computed specifiers (so `deno run` does not load every command
 * up front), repo-relative: `deno compile` embeds only the imports it can see, so each is
 * passed with `--include`.
 */
export const LAZY_MODULES: readonly string[] = [
  ...new Set(COMPUTED_IMPORTS.map((m) => new URL(m, "file:///commands/").pathname.slice(1))),
  // The npm packages imported that way, pinned as deno.json pins them (`npm:yaml@2.9.1`).
  ...COMPUTED_NPM_IMPORTS.map((name) => (denoJson.imports as Record<string, string>)[name]),
];

/**
 * The permissions baked into the binary. Each is as narrow as what datumctl does allows:
 * Deno fixes permission paths at compile time, and the paths datumctl touches depend on the
 * user's HOME and on files the user names, so the file-system grants cannot be scoped to paths.
 */
export const COMPILE_PERMISSIONS: readonly string[] = [
  // The control plane, the OpenID provider, the loopback login callback and the release
  // folder for `update`. Their hosts are the user's choice (`login --endpoint`, env), so no
  // host list can be fixed at compile time.
  "--allow-net",
  // ~/.datumctl, <UserConfigDir>, <UserCacheDir>, the tunnel folder, and any file the user
  // names (`apply -f`, `login --credentials`, a kubeconfig). The napi-rs loaders of the engine
  // and the keyring also read /usr/bin/ldd to tell glibc from musl.
  "--allow-read",
  // The same folders, a kubeconfig wherever the user keeps it, temp files for `edit`, and the
  // binary itself for `datumctl update` (atomic replace beside it).
  "--allow-write",
  // HOME/XDG_* for the folders, DATUM_*/DATUMCTL_* settings, EDITOR, NO_COLOR, the env a
  // plugin inherits, and NAPI_RS_NATIVE_LIBRARY_PATH, which the napi-rs loaders read.
  "--allow-env",
  // The browser opener (xdg-open/open/rundll32) for login, $EDITOR for `edit`, plugins named
  // `datumctl-<name>` found on PATH: the user picks these programs, so none can be listed.
  "--allow-run",
  // Node-API addons need it: the tunnel engine and @napi-rs/keyring (OS keychain).
  "--allow-ffi",
  // hostname: the default label of a tunnel's connector names the machine; osRelease: the
  // User-Agent; uid: `tunnel install --system` needs root, and launchd's domain is gui/<uid>.
  // Nothing else in sys (interfaces, memory) is read.
  "--allow-sys=hostname,osRelease,uid",
  // A compiled tool must fail with a clear error rather than stop at a permission prompt.
  "--no-prompt",
];

/** Flags that shape what is embedded, shared by every target. */
const EMBED_FLAGS: readonly string[] = [
  // Resolve npm packages from the Deno cache and embed only those main.ts reaches, so the
  // local test stack's dependencies (oidc-provider, ...) stay out of the binary.
  "--node-modules-dir=none",
  "--exclude-unused-npm",
  // The lock file decides every dependency; a mismatch fails the build instead of resolving.
  "--frozen-lockfile",
];

/** The file name the tunnel engine is built to and loaded from (engine/dist/<name>). */
export function engineFileName(os: string, arch: string): string {
  return engineFileNameFor(`${os}-${arch}`);
}

/** Where lib/tunnel/engine.ts looks for the engine, relative to the project root. */
const ENGINE_DIST = "engine/dist";

/** What to do for one target. */
export interface TargetPlan {
  target: ReleaseTarget;
  /** The engine module as given (built, from --engine-dir or --engine). */
  engineSource: string;
  /** Where the module must sit to be embedded at the path the loader uses. */
  engineStaged: string;
  /** The command that builds the host's engine first (`--if-stale`: a no-op when fresh). */
  engineBuild?: string[];
  /** Extra environment for the compile (DENORT_BIN). */
  env: Record<string, string>;
  /** The `deno compile` argv. */
  compile: string[];
  /** The binary this writes. */
  output: string;
}

/** Inputs of {@link planCompile}. */
export interface CompileOptions {
  /** `deno compile` targets; empty = all. */
  targets: string[];
  engineDir: string;
  /** Per-target engine files, keyed by deno target. */
  engines: Record<string, string>;
  outDir: string;
  /** The deno executable to run. */
  deno: string;
  /** DENORT_BIN from the environment, if set. */
  denortBin?: string;
  noCheck: boolean;
  /** The platform this runs on, as `Deno.build` names it. */
  host: { os: string; arch: string };
}

/** Resolves the targets and commands of one compile run, or throws with the fix. */
export function planCompile(opts: CompileOptions): TargetPlan[] {
  const wanted = opts.targets.length === 0 || opts.targets.includes("all")
    ? [...RELEASE_TARGETS]
    : opts.targets.map((name) => {
      const t = RELEASE_TARGETS.find((r) => r.denoTarget === name);
      if (!t) {
        throw new Error(
          `unknown target '${name}'; choose from: ${
            RELEASE_TARGETS.map((r) => r.denoTarget).join(", ")
          }`,
        );
      }
      return t;
    });
  if (opts.denortBin && wanted.length !== 1) {
    throw new Error(
      "DENORT_BIN names the runtime of one target; pass exactly one --target with it",
    );
  }
  const host = targetFor(opts.host.os, opts.host.arch);
  return wanted.map((target) => {
    const file = engineFileName(target.os, target.arch);
    const engineSource = opts.engines[target.denoTarget] ?? `${opts.engineDir}/${file}`;
    const engineStaged = `${ENGINE_DIST}/${file}`;
    // The host's engine is built (or found fresh) from engine/ unless one was handed in.
    const buildHere = target === host && opts.engines[target.denoTarget] === undefined &&
      opts.engineDir === ENGINE_DIST;
    const engineBuild = buildHere
      ? [opts.deno, "run", "-A", "scripts/engine.ts", "--if-stale"]
      : undefined;
    const output = `${opts.outDir}/${assetName(target.os, target.arch)}`;
    const compile = [
      opts.deno,
      "compile",
      "--target",
      target.denoTarget,
      "--output",
      output,
      ...EMBED_FLAGS,
      ...(opts.noCheck ? ["--no-check"] : []),
      "--include",
      engineStaged,
      ...LAZY_MODULES.flatMap((m) => ["--include", m]),
      ...COMPILE_PERMISSIONS,
      "main.ts",
    ];
    const env: Record<string, string> = opts.denortBin ? { DENORT_BIN: opts.denortBin } : {};
    return { target, engineSource, engineStaged, engineBuild, env, compile, output };
  });
}

/** Quotes a word for a POSIX shell when it needs it (for printing plans). */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function commandLine(argv: string[], env: Record<string, string> = {}): string {
  const prefix = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)} `).join("");
  return prefix + argv.map(shellQuote).join(" ");
}

/** The plan as the shell commands it stands for, one per line. */
export function planLines(plans: TargetPlan[], outDir: string): string[] {
  const lines: string[] = [`mkdir -p ${shellQuote(outDir)} ${ENGINE_DIST}`];
  for (const p of plans) {
    lines.push(`# ${p.target.denoTarget}`);
    if (p.engineBuild) lines.push(commandLine(p.engineBuild));
    if (p.engineSource !== p.engineStaged) {
      lines.push(`cp ${shellQuote(p.engineSource)} ${shellQuote(p.engineStaged)}`);
    }
    lines.push(commandLine(p.compile, p.env));
  }
  const names = plans.map((p) => shellQuote(p.output.slice(outDir.length + 1)));
  lines.push(`(cd ${shellQuote(outDir)} && sha256sum ${names.join(" ")} > ${SUMS_FILE})`);
  return lines;
}

function parseArgs(args: string[]) {
  const opts = {
    targets: [] as string[],
    engineDir: ENGINE_DIST,
    engines: {} as Record<string, string>,
    outDir: "dist",
    dryRun: false,
    noCheck: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--target") opts.targets.push(value());
    else if (arg === "--engine-dir") opts.engineDir = value().replace(/\/+$/, "");
    else if (arg === "--engine") {
      const v = value();
      const eq = v.indexOf("=");
      if (eq <= 0) throw new Error("--engine takes <target>=<path>");
      opts.engines[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (arg === "--out-dir") opts.outDir = value().replace(/\/+$/, "");
    else if (arg === "--dry-run") opts.dryRun = true;
    else if (arg === "--no-check") opts.noCheck = true;
    else throw new Error(`unknown argument '${arg}'`);
  }
  return opts;
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function runStep(argv: string[], env: Record<string, string> = {}): Promise<void> {
  console.error(`$ ${commandLine(argv, env)}`);
  const status = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`${argv[0]} ${argv[1]} failed (exit ${status.code})`);
}

function formatSize(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

async function main(args: string[]): Promise<number> {
  // Paths in the plan are relative to the project root, wherever the task was started.
  Deno.chdir(new URL("..", import.meta.url));
  const cli = parseArgs(args);
  const plans = planCompile({
    ...cli,
    deno: Deno.execPath(),
    denortBin: Deno.env.get("DENORT_BIN") || undefined,
    host: { os: Deno.build.os, arch: Deno.build.arch },
  });
  if (cli.dryRun) {
    for (const line of planLines(plans, cli.outDir)) console.log(line);
    return 0;
  }
  const missing = plans.filter((p) => !p.engineBuild && !fileExists(p.engineSource));
  if (missing.length > 0) {
    for (const p of missing) {
      console.error(
        `error: no tunnel engine for ${p.target.denoTarget} at ${p.engineSource}; build it on ` +
          `that platform (deno task engine) and pass --engine-dir DIR or ` +
          `--engine ${p.target.denoTarget}=PATH`,
      );
    }
    return 1;
  }
  const denortBin = Deno.env.get("DENORT_BIN");
  if (denortBin && !fileExists(denortBin)) {
    console.error(`error: DENORT_BIN points to ${denortBin}, which does not exist`);
    return 1;
  }
  await Deno.mkdir(cli.outDir, { recursive: true });
  await Deno.mkdir(ENGINE_DIST, { recursive: true });
  const sums: [string, string][] = [];
  for (const p of plans) {
    if (p.engineBuild) await runStep(p.engineBuild);
    if (!fileExists(p.engineSource)) {
      console.error(`error: the engine build did not produce ${p.engineSource}`);
      return 1;
    }
    if (p.engineSource !== p.engineStaged) await Deno.copyFile(p.engineSource, p.engineStaged);
    await runStep(p.compile, p.env);
    const bytes = await Deno.readFile(p.output);
    sums.push([p.output.slice(cli.outDir.length + 1), await sha256Hex(bytes)]);
  }
  await Deno.writeTextFile(`${cli.outDir}/${SUMS_FILE}`, formatSums(sums));
  console.log("");
  for (const [name] of sums) {
    const size = (await Deno.stat(`${cli.outDir}/${name}`)).size;
    console.log(`${name.padEnd(32)} ${formatSize(size).padStart(10)}`);
  }
  console.log(`${cli.outDir}/${SUMS_FILE} written (${sums.length} binaries)`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
