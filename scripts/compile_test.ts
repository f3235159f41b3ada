import assert from "node:assert/strict";
import { COMPILE_PERMISSIONS, engineFileName, LAZY_MODULES, planCompile } from "./compile.ts";
import { RELEASE_TARGETS } from "../lib/release/platform.ts";
import { parseSums, sha256Hex } from "../lib/release/checksums.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dec = new TextDecoder();

async function compileScript(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/compile.ts", ...args],
    cwd: opts.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("--dry-run plans one compile per target, each embedding that target's engine", async () => {
  const res = await compileScript(["--dry-run"]);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split("\n");
  const compiles = lines.filter((l) => / compile /.test(l));
  assert.equal(compiles.length, RELEASE_TARGETS.length);
  const expected: Record<string, [string, string]> = {
    "x86_64-unknown-linux-gnu": ["datumctl-linux-x86_64", "linux-x86_64"],
    "aarch64-unknown-linux-gnu": ["datumctl-linux-aarch64", "linux-aarch64"],
    "x86_64-apple-darwin": ["datumctl-darwin-x86_64", "darwin-x86_64"],
    "aarch64-apple-darwin": ["datumctl-darwin-aarch64", "darwin-aarch64"],
    "x86_64-pc-windows-msvc": ["datumctl-windows-x86_64.exe", "windows-x86_64"],
  };
  for (const [target, [binary, platform]] of Object.entries(expected)) {
    const line = compiles.find((l) => l.includes(`--target ${target} `));
    assert.ok(line, `no compile line for ${target}`);
    assert.match(line, new RegExp(` --output dist/${binary.replace(".", "\\.")} `));
    assert.match(line, new RegExp(` --include engine/dist/datumctl_engine\\.${platform}\\.node `));
    for (const flag of COMPILE_PERMISSIONS) assert.ok(line.includes(` ${flag} `), flag);
    // The modules imported by computed specifiers are embedded too (the lazy command groups).
    for (const m of LAZY_MODULES) assert.ok(line.includes(` --include ${m} `), m);
    assert.doesNotMatch(line, / (-A|--allow-all) /);
    assert.ok(line.endsWith(" main.ts"));
  }
  // Only the host's engine is built here; the rest come from their own platforms.
  const builds = lines.filter((l) => l.includes("scripts/engine.ts"));
  assert.equal(builds.length, 1);
  assert.match(
    lines.at(-1)!,
    /sha256sum datumctl-linux-x86_64 .*datumctl-windows-x86_64\.exe > SHA256SUMS/,
  );
});

Deno.test("the plan takes engines from --engine-dir and per-target --engine, staging them", () => {
  const plans = planCompile({
    targets: ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"],
    engineDir: "artifacts",
    engines: { "aarch64-apple-darwin": "/tmp/mac.node" },
    outDir: "out",
    deno: "deno",
    noCheck: false,
    host: { os: "linux", arch: "x86_64" },
  });
  assert.equal(plans.length, 2);
  assert.equal(plans[0].engineSource, "/tmp/mac.node");
  assert.equal(plans[0].engineStaged, `engine/dist/${engineFileName("darwin", "aarch64")}`);
  assert.equal(plans[1].engineSource, "artifacts/datumctl_engine.linux-x86_64.node");
  // An engine handed in is never rebuilt, not even the host's.
  assert.equal(plans[1].engineBuild, undefined);
  assert.equal(plans[1].output, "out/datumctl-linux-x86_64");
});

Deno.test("DENORT_BIN is one runtime: with it, more than one target is refused", () => {
  assert.throws(
    () =>
      planCompile({
        targets: [],
        engineDir: "engine/dist",
        engines: {},
        outDir: "dist",
        deno: "deno",
        denortBin: "/opt/denort",
        noCheck: false,
        host: { os: "linux", arch: "x86_64" },
      }),
    /exactly one --target/,
  );
  const [plan] = planCompile({
    targets: ["x86_64-unknown-linux-gnu"],
    engineDir: "engine/dist",
    engines: {},
    outDir: "dist",
    deno: "deno",
    denortBin: "/opt/denort",
    noCheck: false,
    host: { os: "linux", arch: "x86_64" },
  });
  assert.deepEqual(plan.env, { DENORT_BIN: "/opt/denort" });
});

Deno.test("an unknown target or a missing cross engine is refused with the fix", async () => {
  const bad = await compileScript(["--dry-run", "--target", "x86_64-unknown-linux-musl"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown target 'x86_64-unknown-linux-musl'; choose from: /);
  const empty = await Deno.makeTempDir();
  const missing = await compileScript([
    "--target",
    "aarch64-apple-darwin",
    "--engine-dir",
    empty,
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no tunnel engine for aarch64-apple-darwin/);
  assert.match(missing.stderr, /--engine-dir DIR/);
});

Deno.test("deno compile accepts the planned flags; sums and sizes are written", async () => {
  // denort cannot be downloaded here, so the deno binary stands in for it: the output is not a
  // working datumctl, but every flag of the plan goes through the real `deno compile`. The
  // compile runs in a copy of the sources so the fake engine never lands in engine/dist.
  const copy = await Deno.makeTempDir({ prefix: "datumctl-compile-" });
  try {
    // Whatever main.ts reaches, wherever it lives, plus the lock file and the scripts.
    const entries = new Set(["deno.json", "deno.lock", "scripts", ...(await graphTopLevels())]);
    for (const entry of entries) {
      await new Deno.Command("cp", { args: ["-r", `${ROOT}/${entry}`, copy] }).output();
    }
    await Deno.mkdir(`${copy}/fake-engines`);
    const engine = crypto.getRandomValues(new Uint8Array(4096));
    await Deno.writeFile(`${copy}/fake-engines/${engineFileName("linux", "x86_64")}`, engine);
    const res = await compileScript([
      "--target",
      "x86_64-unknown-linux-gnu",
      "--engine-dir",
      "fake-engines",
      "--out-dir",
      "out",
      "--no-check",
    ], { cwd: copy, env: { DENORT_BIN: Deno.execPath() } });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /datumctl-linux-x86_64\s+\d+\.\d MB/);
    const staged = await Deno.readFile(`${copy}/engine/dist/${engineFileName("linux", "x86_64")}`);
    assert.deepEqual(staged, engine);
    const sums = parseSums(await Deno.readTextFile(`${copy}/out/SHA256SUMS`));
    assert.deepEqual([...sums.keys()], ["datumctl-linux-x86_64"]);
    const binary = await Deno.readFile(`${copy}/out/datumctl-linux-x86_64`);
    assert.equal(sums.get("datumctl-linux-x86_64"), await sha256Hex(binary));
    // The engine bytes are inside the binary: nothing has to sit beside it.
    assert.ok(indexOf(binary, engine) >= 0, "engine module not embedded");
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

/**
 * The project's own files in the module graph of main.ts and of the modules it imports by
 * computed specifiers (absolute paths; npm packages left out).
 */
async function projectModules(): Promise<string[]> {
  const locals = new Set<string>();
  for (const root of ["main.ts", ...LAZY_MODULES]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    const graph = JSON.parse(dec.decode(out.stdout)) as { modules: { local?: string }[] };
    for (const m of graph.modules) {
      if (m.local?.startsWith(`${ROOT}/`) && !m.local.includes("/node_modules/")) {
        locals.add(m.local);
      }
    }
  }
  return [...locals];
}

/** The top-level files and folders of the project that main.ts's module graph touches. */
async function graphTopLevels(): Promise<string[]> {
  const tops = new Set<string>();
  for (const local of await projectModules()) tops.add(local.slice(ROOT.length + 1).split("/")[0]);
  return [...tops];
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  outer: for (let i = haystack.indexOf(first); i >= 0; i = haystack.indexOf(first, i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Node/Deno calls gated by `--allow-sys`, by the permission name Deno checks. */
const SYS_CALLS: Record<string, RegExp> = {
  hostname: /\b(Deno\.hostname|os\.hostname|hostname)\s*\(/,
  osRelease: /\b(Deno\.osRelease|os\.release)\s*\(/,
  osUptime: /\b(Deno\.osUptime|os\.uptime)\s*\(/,
  loadavg: /\b(Deno\.loadavg|os\.loadavg)\s*\(/,
  networkInterfaces: /\b(Deno\.networkInterfaces|os\.networkInterfaces)\s*\(/,
  systemMemoryInfo: /\b(Deno\.systemMemoryInfo|os\.(totalmem|freemem))\s*\(/,
  uid: /\bDeno\.uid\s*\(/,
  gid: /\bDeno\.gid\s*\(/,
  userInfo: /\bos\.userInfo\s*\(/,
  cpus: /\bos\.(cpus|availableParallelism)\s*\(/,
  homedir: /\bos\.homedir\s*\(/,
};

Deno.test("the sys APIs datumctl's own code calls are the ones baked in", async () => {
  const allowed = new Set(
    COMPILE_PERMISSIONS.find((p) => p.startsWith("--allow-sys="))!.split("=")[1].split(","),
  );
  const used = new Map<string, string>();
  for (const local of await projectModules()) {
    if (!/\.ts$/.test(local)) continue;
    const text = await Deno.readTextFile(local);
    for (const [name, pattern] of Object.entries(SYS_CALLS)) {
      if (pattern.test(text)) used.set(name, local.slice(ROOT.length + 1));
    }
  }
  for (const [name, file] of used) {
    assert.ok(
      allowed.has(name),
      `${file} needs --allow-sys=${name}; add it to COMPILE_PERMISSIONS`,
    );
  }
});
