/**
 * `deno task bench startup [--runs N] [--json] [--check] [--no-stack]
 *                          [--binary PATH --baseline-binary PATH] [--wall-budget X] [--peak-budget X]`
 *
 * How long the commands every script line, TAB and kubectl call pays take to start and finish,
 * and their peak memory, beside an empty program measured in the same invocation, as ratios:
 * `--version`, `--help`, a TAB (`complete -- ctx use ""`), `ctx` (cached contexts), `whoami`,
 * `auth get-token -o client.authentication.k8s.io/v1` (a cached, unexpired token: what kubectl
 * runs) from a seeded temporary HOME (`whoami --offline` there: the config-only report), and
 * against a local stack (logged in with a device login) the commands that ask the API:
 * `whoami` (its login check) and `get connectors`. Those have a wall-time budget only, plus
 * their API round trips, measured beside each as the same requests made raw from a new
 * process. `kubectl version --client` runs as a yardstick when installed.
 *
 * The budget: each command ≤ 2.5× the empty program's median wall time and ≤ 1.6× its peak
 * memory (`--wall-budget`, `--peak-budget`; 0 leaves peak unchecked); `--check` exits 3 when a
 * command is over it. By default datumctl runs from source (`deno run main.ts`) against
 * `deno run` of an empty script; `--binary` measures a compiled datumctl against
 * `--baseline-binary`, an empty program compiled the same way. Runs are interleaved (baseline,
 * then each command, round after round) so a machine that slows down mid-run affects all rows
 * alike; after one warm-up round, at least 10 counted. Wall time is measured around each whole
 * process; peak memory (max RSS) comes from GNU `/usr/bin/time` when it is installed.
 *
 * The seeded HOME (a login, a fresh context cache and a cached token) is built by a function the
 * start-up tests use too.
 */
import { emptyConfig, serializeConfig } from "../lib/store/config.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const TIME = "/usr/bin/time";

/**
 * Writes ~/.datumctl/config with one login, two contexts and a context cache fresh as of now,
 * and (file store) that login's credentials with an access token valid for another hour.
 */
export async function seedLoggedInHome(home: string): Promise<void> {
  const api = "https://api.datum.net";
  const session = `alice@example.com@${new URL(api).host}`;
  const config = emptyConfig();
  config.sessions = [{
    name: session,
    "user-key": "alice@example.com@auth.datum.net",
    "user-email": "alice@example.com",
    "user-name": "Alice Example",
    endpoint: { server: api, "auth-hostname": "auth.datum.net" },
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
  await Deno.writeTextFile(`${home}/.datumctl/config`, await serializeConfig(config), {
    mode: 0o600,
  });
  const credentials = {
    hostname: "auth.datum.net",
    api_hostname: new URL(api).host,
    client_id: "datumctl",
    endpoint_auth_url: "https://auth.datum.net/oauth/v2/authorize",
    endpoint_token_url: "https://auth.datum.net/oauth/v2/token",
    scopes: ["openid", "profile", "email", "offline_access"],
    token: {
      access_token: "bench-access-token",
      token_type: "Bearer",
      refresh_token: "bench-refresh-token",
      expiry: new Date(Date.now() + 3600_000).toISOString(),
    },
    user_name: "Alice Example",
    user_email: "alice@example.com",
    subject: "alice",
  };
  const store = {
    "datumctl-auth": { "alice@example.com@auth.datum.net": JSON.stringify(credentials) },
  };
  await Deno.writeTextFile(`${home}/.datumctl/credentials.json`, JSON.stringify(store, null, 2), {
    mode: 0o600,
  });
}

interface Sample {
  wallMs: number;
  peakKiB?: number;
}

/** One measured command line. */
interface Row {
  name: string;
  argv: string[];
  env: Record<string, string>;
  /** "startup": within the wall and peak budget of empty; "api": the wall budget plus a round trip. */
  budget?: "startup" | "api";
  samples: Sample[];
  /** For an "api" row: the URLs it requests, fetched raw beside it for its allowance. */
  roundTrip?: { urls: string[]; samples: number[] };
}

/** A result as `--json` prints it. */
interface Result {
  name: string;
  runs: number;
  wallMs: number;
  wallMsMin: number;
  wallMsMax: number;
  peakMiB: number | null;
  /** Median wall / median wall of the empty program. */
  wallRatio: number;
  peakRatio: number | null;
  /** For a command that waits on the API: the median raw round trip of its requests. */
  roundTripMs?: number;
  /** For a command that waits on the API: (wall - round trip) / empty wall. */
  wallRatioNet?: number;
  withinBudget?: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

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

async function measure(row: Row, gnuTime: boolean, scratch: string): Promise<Sample> {
  const report = `${scratch}/time-report`;
  const full = gnuTime ? [TIME, "-f", "%M", "-o", report, ...row.argv] : row.argv;
  const start = performance.now();
  const out = await new Deno.Command(full[0], {
    args: full.slice(1),
    env: row.env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const wallMs = performance.now() - start;
  if (!out.success) {
    throw new Error(
      `${row.argv.join(" ")} failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  if (!gnuTime) return { wallMs };
  const peakKiB = Number((await Deno.readTextFile(report)).trim().split("\n").pop());
  return { wallMs, peakKiB };
}

/** Command-line options. */
interface Options {
  runs: number;
  binary?: string;
  baselineBinary?: string;
  json: boolean;
  check: boolean;
  stack: boolean;
  wallBudget: number;
  peakBudget: number;
}

const USAGE = "use --runs N (at least 10), --binary PATH, --baseline-binary PATH, --json, " +
  "--check, --no-stack, --wall-budget X, --peak-budget X (0: not checked)";

function parseArgs(args: string[]): Options {
  const opts: Options = {
    runs: 10,
    json: false,
    check: false,
    stack: true,
    wallBudget: 2.5,
    peakBudget: 1.6,
  };
  const number = (value: string | undefined, name: string) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) {
      throw new Error(`${name} needs a number`);
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--runs") opts.runs = Math.max(10, number(args[++i], "--runs"));
    else if (arg === "--binary") opts.binary = args[++i];
    else if (arg === "--baseline-binary") opts.baselineBinary = args[++i];
    else if (arg === "--json") opts.json = true;
    else if (arg === "--check") opts.check = true;
    else if (arg === "--no-stack") opts.stack = false;
    else if (arg === "--wall-budget") opts.wallBudget = number(args[++i], arg);
    else if (arg === "--peak-budget") opts.peakBudget = number(args[++i], arg);
    else throw new Error(`unknown argument '${arg}' (${USAGE})`);
  }
  if (opts.binary && !opts.baselineBinary) {
    throw new Error("--binary needs --baseline-binary: an empty program compiled the same way");
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

const WINDOWS = Deno.build.os === "windows";

async function which(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(WINDOWS ? ";" : ":")) {
    for (const file of WINDOWS ? [`${name}.exe`] : [name]) {
      try {
        const info = await Deno.stat(`${dir}/${file}`);
        if (info.isFile) return `${dir}/${file}`;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** A HOME logged in to a local stack (device login, file store) with acme-corp/infra current. */
async function stackHome(
  datumctl: string[],
  env: Record<string, string>,
  home: string,
  stack: { api: string; issuer: string; clientId: string },
): Promise<void> {
  await Deno.mkdir(home, { recursive: true });
  const run = async (args: string[]) => {
    const out = await new Deno.Command(datumctl[0], {
      args: [...datumctl.slice(1), ...args],
      env: {
        ...env,
        HOME: home,
        XDG_CACHE_HOME: `${home}/.cache`,
        XDG_CONFIG_HOME: `${home}/.config`,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`datumctl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new TextDecoder().decode(out.stdout);
  };
  const flags = ["--endpoint", stack.api, "--auth-endpoint", stack.issuer, "--client-id"];
  await run(["login", ...flags, stack.clientId, "--no-browser"]);
  await run(["ctx", "use", "acme-corp/infra"]);
  await run([
    "apply",
    "-f",
    await writeManifest(home),
  ]);
}

async function writeManifest(home: string): Promise<string> {
  const path = `${home}/connector.yaml`;
  await Deno.writeTextFile(
    path,
    "apiVersion: networking.datumapis.com/v1alpha1\nkind: Connector\nmetadata:\n  name: laptop\n" +
      "spec:\n  connectorClassName: datum-connect\n",
  );
  return path;
}

/** The script {@link roundTrip} runs: GETs in turn, timed from the first fetch to the last byte. */
const ROUND_TRIP_SCRIPT = `
const start = performance.now();
for (const url of Deno.args) {
  const res = await fetch(url, {
    headers: { authorization: "Bearer " + Deno.env.get("BENCH_TOKEN"), accept: "application/json" },
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(url + ": HTTP " + res.status);
}
console.log(performance.now() - start);
`;

/**
 * The API round trips a command waits for, made raw: the same requests (for `get connectors`
 * the organization's onboarding check, then the list; for `whoami` its login check) from a new
 * process, so with the HTTP client's set-up and a new connection as every datumctl run has,
 * timed inside that process around the fetches alone.
 */
async function roundTrip(
  script: string,
  urls: string[],
  token: string,
  env: Record<string, string>,
): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script, ...urls],
    env: { ...env, BENCH_TOKEN: token },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !Number.isFinite(ms)) {
    throw new Error(`raw fetch failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

function summarise(row: Row, baseWall: number, basePeak: number | undefined): Result {
  const walls = row.samples.map((s) => s.wallMs);
  const wall = median(walls);
  const peaks = row.samples.map((s) => s.peakKiB).filter((p): p is number => p !== undefined);
  const peak = peaks.length === row.samples.length ? median(peaks) : undefined;
  return {
    name: row.name,
    runs: row.samples.length,
    wallMs: round1(wall),
    wallMsMin: round1(Math.min(...walls)),
    wallMsMax: round1(Math.max(...walls)),
    peakMiB: peak === undefined ? null : round1(peak / 1024),
    wallRatio: round2(wall / baseWall),
    peakRatio: peak === undefined || !basePeak ? null : round2(peak / basePeak),
  };
}

async function main(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  const scratch = await Deno.makeTempDir({ prefix: "datumctl-bench-" });
  let stack: { api: string; issuer: string; clientId: string; stop(): Promise<void> } | undefined;
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
    // A Windows process needs its system folders in the environment to start at all.
    for (const name of WINDOWS ? ["SystemRoot", "windir", "TEMP", "TMP", "PATHEXT"] : []) {
      const value = Deno.env.get(name);
      if (value) env[name] = value;
    }
    // Keep Deno's own cache: a fresh one under the temporary HOME would download and compile.
    const dir = Deno.env.get("DENO_DIR") ?? await denoDir();
    if (dir) env.DENO_DIR = dir;
    const deno = Deno.execPath();
    const datumctl = opts.binary ? [opts.binary] : [deno, "run", "-A", "--quiet", MAIN];
    const baseline = opts.baselineBinary ? [opts.baselineBinary] : [deno, "run", "--quiet", empty];
    const row = (name: string, argv: string[], budget?: Row["budget"], rowEnv = env): Row => ({
      name,
      argv,
      env: rowEnv,
      budget,
      samples: [],
    });
    const rows: Row[] = [
      row(opts.baselineBinary ? "empty compiled program" : "deno run (empty script)", baseline),
      row("datumctl --version", [...datumctl, "--version"], "startup"),
      row("datumctl --help", [...datumctl, "--help"], "startup"),
      // What bash asks on `datumctl ctx use <TAB>`.
      row("datumctl complete (TAB)", [...datumctl, "complete", "--", "ctx", "use", ""], "startup"),
      row("datumctl ctx (cached)", [...datumctl, "ctx"], "startup"),
      // --offline: what whoami costs without its server check (plain whoami asks the server).
      row("datumctl whoami --offline", [...datumctl, "whoami", "--offline"], "startup"),
      row(
        "datumctl auth get-token (kubectl)",
        [...datumctl, "auth", "get-token", "-o", "client.authentication.k8s.io/v1"],
        "startup",
      ),
    ];
    let rtt: { script: string; token: string } | undefined;
    if (opts.stack) {
      const { startStack } = await import("../tests/support/stack.ts");
      stack = await startStack({ autoApprove: "alice@example.com" });
      const apiHome = `${scratch}/api-home`;
      await stackHome(datumctl, env, apiHome, stack);
      const apiEnv = {
        ...env,
        HOME: apiHome,
        XDG_CACHE_HOME: `${apiHome}/.cache`,
        XDG_CONFIG_HOME: `${apiHome}/.config`,
      };
      const token = await new Deno.Command(datumctl[0], {
        args: [...datumctl.slice(1), "auth", "get-token"],
        env: apiEnv,
        clearEnv: true,
        stdout: "piped",
        stderr: "null",
      }).output();
      const { projectControlPlaneUrl, RESOURCE_MANAGER_GROUP, userControlPlaneUrl } = await import(
        "../lib/api/urls.ts"
      );
      const store = JSON.parse(await Deno.readTextFile(`${apiHome}/.datumctl/credentials.json`));
      const subject = JSON.parse(Object.values(store["datumctl-auth"])[0] as string).subject;
      const userPlane =
        `${userControlPlaneUrl(stack.api, subject)}/apis/${RESOURCE_MANAGER_GROUP}` +
        "/v1alpha1";
      const apiRow = (name: string, args: string[], urls: string[]): Row => ({
        ...row(name, [...datumctl, ...args], "api", apiEnv),
        roundTrip: { urls, samples: [] },
      });
      rows.push(
        // The login check: one authenticated request to the user's control plane.
        apiRow("datumctl whoami (API)", ["whoami"], [
          `${userPlane}/organizationmemberships?limit=1`,
        ]),
        // The organization's onboarding check, then the list.
        apiRow("datumctl get connectors (API)", ["get", "connectors"], [
          `${userPlane}/organizations/acme-corp`,
          `${projectControlPlaneUrl(stack.api, "infra")}` +
          "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors",
        ]),
      );
      const script = `${scratch}/round-trip.ts`;
      await Deno.writeTextFile(script, ROUND_TRIP_SCRIPT);
      rtt = { script, token: new TextDecoder().decode(token.stdout) };
    }
    const kubectl = await which("kubectl");
    if (kubectl) {
      rows.push(row("kubectl version --client (yardstick)", [kubectl, "version", "--client"]));
    }

    const gnuTime = await haveGnuTime();
    // One warm-up round fills Deno's caches (type-stripped and V8 code) and datumctl's own
    // (parsed config, command tree), as the second use on a machine would find them.
    for (const r of rows) await measure(r, gnuTime, scratch);
    for (let i = 0; i < opts.runs; i++) {
      for (const r of rows) {
        r.samples.push(await measure(r, gnuTime, scratch));
        // Each API row's raw requests right after it, so both see the same machine.
        if (r.roundTrip && rtt) {
          r.roundTrip.samples.push(await roundTrip(rtt.script, r.roundTrip.urls, rtt.token, env));
        }
      }
    }

    const base = summarise(rows[0], 1, undefined);
    const baseWall = median(rows[0].samples.map((s) => s.wallMs));
    const basePeak = gnuTime ? median(rows[0].samples.map((s) => s.peakKiB!)) : undefined;
    const results = rows.map((r) => {
      const result = summarise(r, baseWall, basePeak);
      if (!r.budget) return result;
      const wall = median(r.samples.map((s) => s.wallMs));
      // An API row's allowance: its own requests made raw, median of the runs beside it.
      const allowance = r.roundTrip?.samples.length ? median(r.roundTrip.samples) : 0;
      if (r.budget === "api") {
        result.roundTripMs = round1(allowance);
        result.wallRatioNet = round2((wall - allowance) / baseWall);
      }
      const wallOk = wall <= opts.wallBudget * baseWall + allowance;
      // An API command's budget is wall time only (its HTTP client is memory no flag saves).
      const peakOk = r.budget === "api" || opts.peakBudget === 0 || result.peakRatio === null ||
        result.peakRatio <= opts.peakBudget;
      result.withinBudget = wallOk && peakOk;
      return result;
    });
    const checked = results.filter((r) => r.withinBudget !== undefined);
    const allWithinBudget = checked.every((r) => r.withinBudget);
    if (opts.json) {
      console.log(JSON.stringify(
        {
          source: opts.binary ?? "deno run main.ts",
          deno: Deno.version.deno,
          runs: opts.runs,
          budget: { wallRatio: opts.wallBudget, peakRatio: opts.peakBudget || null },
          baseline: { name: base.name, wallMs: base.wallMs, peakMiB: base.peakMiB },
          results: results.slice(1),
          allWithinBudget,
        },
        null,
        2,
      ));
    } else {
      const what = opts.binary ? opts.binary : `deno run main.ts (deno ${Deno.version.deno})`;
      console.log(`start-up of ${what}: median of ${opts.runs} runs (min..max), whole process`);
      console.log(
        `${"command".padEnd(38)}${"wall ms".padStart(9)}${"min..max".padStart(12)}` +
          `${"× empty".padStart(9)}${"peak MiB".padStart(10)}${"× empty".padStart(9)}  budget`,
      );
      for (const r of results) {
        const ratio = r.wallRatioNet === undefined
          ? r.wallRatio.toFixed(2)
          : `${r.wallRatioNet.toFixed(2)}*`;
        console.log(
          `${r.name.padEnd(38)}${r.wallMs.toFixed(1).padStart(9)}` +
            `${`${r.wallMsMin.toFixed(0)}..${r.wallMsMax.toFixed(0)}`.padStart(12)}` +
            `${ratio.padStart(9)}` +
            `${(r.peakMiB === null ? "n/a" : r.peakMiB.toFixed(1)).padStart(10)}` +
            `${(r.peakRatio === null ? "n/a" : r.peakRatio.toFixed(2)).padStart(9)}` +
            `  ${r.withinBudget === undefined ? "" : r.withinBudget ? "ok" : "OVER"}`,
        );
      }
      const api = results.filter((r) => r.roundTripMs !== undefined);
      if (api.length > 0) {
        console.log(
          `* less its API round trips (the same requests, raw, from a new process: ` +
            api.map((r) =>
              `${r.name.replace(/^datumctl | \(API\)$/g, "")} ` +
              `${r.roundTripMs!.toFixed(1)} ms`
            ).join(", ") +
            "); their budget is wall time only",
        );
      }
      console.log(
        `budget: wall ≤ ${opts.wallBudget}× empty` +
          (opts.peakBudget ? `, peak ≤ ${opts.peakBudget}× empty` : "") +
          ` — ${allWithinBudget ? "every command within it" : "OVER for some"}`,
      );
      if (!gnuTime) {
        console.log("(peak memory needs GNU time at /usr/bin/time: apt-get install time)");
      }
    }
    return opts.check && !allWithinBudget ? 3 : 0;
  } finally {
    await stack?.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
