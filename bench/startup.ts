/**
 * `deno task bench startup [--runs N] [--binary PATH] [--json]`: how long the commands that
 * do no network I/O take to start and finish, and their peak memory, beside `deno run` of an
 * empty script measured in the same invocation, as ratios.
 *
 * Commands: `--version`, `--help`, `ctx` (from the cached contexts of a seeded config in a
 * temporary HOME) and `whoami`. By default datumctl runs from source (`deno run main.ts`);
 * `--binary` measures a compiled datumctl instead. Runs are interleaved (baseline, then each
 * command, round after round) so a machine that slows down mid-run affects all rows alike.
 * Wall time is measured around each whole process; peak memory (max RSS) comes from GNU
 * `/usr/bin/time` when it is installed.
 *
 * Exports {@link seedLoggedInHome} (a HOME with a login and a fresh context cache, used by the
 * start-up tests too).
 */
import { emptyConfig, serializeConfig } from "../lib/store/config.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const TIME = "/usr/bin/time";

/** Writes ~/.datumctl/config with one login, two contexts and a context cache fresh as of now. */
export async function seedLoggedInHome(home: string): Promise<void> {
  const session = "alice@example.com@api.datum.net";
  const config = emptyConfig();
  config.sessions = [{
    name: session,
    "user-key": "alice@example.com@auth.datum.net",
    "user-email": "alice@example.com",
    "user-name": "Alice Example",
    endpoint: { server: "https://api.datum.net", "auth-hostname": "auth.datum.net" },
  }];
  config.contexts = [
    { name: `${session}/acme-corp`, session, "organization-id": "acme-corp" },
    {
      name: `${session}/acme-corp/infra`,
      session,
      "organization-id": "acme-corp",
      "project-id": "infra",
    },
  ];
  config["current-context"] = `${session}/acme-corp/infra`;
  config["active-session"] = session;
  config.cache = {
    organizations: [{ id: "acme-corp", "display-name": "ACME Corp", session }],
    projects: [{ id: "infra", "display-name": "Infra", "org-id": "acme-corp", session }],
    "last-refreshed": new Date().toISOString(),
  };
  await Deno.mkdir(`${home}/.datumctl`, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${home}/.datumctl/config`, serializeConfig(config), { mode: 0o600 });
}

interface Sample {
  wallMs: number;
  peakKiB?: number;
}

interface Row {
  name: string;
  argv: string[];
  samples: Sample[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function haveGnuTime(): Promise<boolean> {
  try {
    const out = await new Deno.Command(TIME, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return (dec.decode(out.stdout) + dec.decode(out.stderr)).includes("GNU");
  } catch {
    return false;
  }
}

async function measure(
  argv: string[],
  env: Record<string, string>,
  gnuTime: boolean,
  scratch: string,
): Promise<Sample> {
  const report = `${scratch}/time-report`;
  const full = gnuTime ? [TIME, "-f", "%M", "-o", report, ...argv] : argv;
  const start = performance.now();
  const out = await new Deno.Command(full[0], {
    args: full.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const wallMs = performance.now() - start;
  if (!out.success) {
    throw new Error(
      `${argv.join(" ")} failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  if (!gnuTime) return { wallMs };
  const peakKiB = Number((await Deno.readTextFile(report)).trim().split("\n").pop());
  return { wallMs, peakKiB };
}

function parseArgs(args: string[]) {
  const opts = { runs: 10, binary: undefined as string | undefined, json: false };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--runs") opts.runs = Math.max(1, Number(args[++i]) || 10);
    else if (args[i] === "--binary") opts.binary = args[++i];
    else if (args[i] === "--json") opts.json = true;
    else throw new Error(`unknown argument '${args[i]}' (use --runs N, --binary PATH, --json)`);
  }
  return opts;
}

async function denoDir(): Promise<string | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
  } catch {
    return undefined;
  }
}

async function main(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const scratch = await Deno.makeTempDir({ prefix: "datumctl-bench-" });
  try {
    const home = `${scratch}/home`;
    await Deno.mkdir(home);
    await seedLoggedInHome(home);
    const empty = `${scratch}/empty.ts`;
    await Deno.writeTextFile(empty, "");
    const env: Record<string, string> = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      DATUMCTL_NO_UPDATE_CHECK: "1",
      DATUMCTL_CREDENTIALS_STORE: "file",
      XDG_CACHE_HOME: `${home}/.cache`,
      XDG_CONFIG_HOME: `${home}/.config`,
    };
    // Keep Deno's own cache: a fresh one under the temporary HOME would download and compile.
    const dir = Deno.env.get("DENO_DIR") ?? await denoDir();
    if (dir) env.DENO_DIR = dir;
    const deno = Deno.execPath();
    const datumctl = opts.binary ? [opts.binary] : [deno, "run", "-A", "--quiet", MAIN];
    const rows: Row[] = [
      { name: "deno run (empty script)", argv: [deno, "run", "--quiet", empty], samples: [] },
      { name: "datumctl --version", argv: [...datumctl, "--version"], samples: [] },
      { name: "datumctl --help", argv: [...datumctl, "--help"], samples: [] },
      { name: "datumctl ctx (cached)", argv: [...datumctl, "ctx"], samples: [] },
      // --offline: the config-only path (plain whoami asks the server).
      { name: "datumctl whoami", argv: [...datumctl, "whoami", "--offline"], samples: [] },
    ];
    const gnuTime = await haveGnuTime();
    // One warm-up round fills Deno's caches (type-stripped and V8 code), as a second use would.
    for (const row of rows) await measure(row.argv, env, gnuTime, scratch);
    for (let i = 0; i < opts.runs; i++) {
      for (const row of rows) row.samples.push(await measure(row.argv, env, gnuTime, scratch));
    }
    const base = rows[0];
    const baseWall = median(base.samples.map((s) => s.wallMs));
    const basePeak = gnuTime ? median(base.samples.map((s) => s.peakKiB!)) : undefined;
    const results = rows.map((row) => {
      const wall = median(row.samples.map((s) => s.wallMs));
      const peak = gnuTime ? median(row.samples.map((s) => s.peakKiB!)) : undefined;
      return {
        command: row.name,
        runs: row.samples.length,
        wallMsMedian: Math.round(wall * 10) / 10,
        wallMsMin: Math.round(Math.min(...row.samples.map((s) => s.wallMs)) * 10) / 10,
        wallMsMax: Math.round(Math.max(...row.samples.map((s) => s.wallMs)) * 10) / 10,
        wallRatio: Math.round((wall / baseWall) * 100) / 100,
        peakMiB: peak === undefined ? null : Math.round((peak / 1024) * 10) / 10,
        peakRatio: peak === undefined || !basePeak
          ? null
          : Math.round((peak / basePeak) * 100) / 100,
      };
    });
    if (opts.json) {
      console.log(JSON.stringify(
        { source: opts.binary ?? "deno run main.ts", deno: Deno.version.deno, results },
        null,
        2,
      ));
      return;
    }
    const what = opts.binary ? opts.binary : `deno run main.ts (deno ${Deno.version.deno})`;
    console.log(`start-up of ${what}: median of ${opts.runs} runs (min..max), whole process`);
    console.log(
      `${"command".padEnd(26)}${"wall ms".padStart(10)}${"min..max".padStart(16)}` +
        `${"× empty".padStart(9)}${"peak MiB".padStart(10)}${"× empty".padStart(9)}`,
    );
    for (const r of results) {
      console.log(
        `${r.command.padEnd(26)}${r.wallMsMedian.toFixed(1).padStart(10)}` +
          `${`${r.wallMsMin.toFixed(0)}..${r.wallMsMax.toFixed(0)}`.padStart(16)}` +
          `${r.wallRatio.toFixed(2).padStart(9)}` +
          `${(r.peakMiB === null ? "n/a" : r.peakMiB.toFixed(1)).padStart(10)}` +
          `${(r.peakRatio === null ? "n/a" : r.peakRatio.toFixed(2)).padStart(9)}`,
      );
    }
    if (!gnuTime) {
      console.log("(peak memory needs GNU time at /usr/bin/time: apt-get install time)");
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
