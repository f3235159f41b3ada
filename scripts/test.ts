/**
 * `deno task test`: everything CI checks, in one command that ends with `N passed, N failed`.
 *
 * Steps: install the system packages the tests need (gnome-keyring, tmux) when missing, type
 * check, lint, format check, build the tunnel engine when stale, Rust tests, then the Deno test
 * suites (the keychain suite inside a headless Secret Service session). Each check counts as one
 * test; each Deno or Rust test counts as itself.
 *
 * Flags: `--only <path>` runs just that test file or folder (no checks).
 *
 * `DATUMCTL_TEST_APISERVER` picks the control-plane backend of the end-to-end tests: `emulator`
 * (default), `kube` (etcd and real API servers, installed and built when missing) or `both`
 * (everything on the emulator, then {@link SECOND_BACKEND_FILES} again on the real backend).
 */

import { findApiServer } from "../local/kube/apiserver.ts";
import { cargoTargetDir } from "./engine.ts";

/**
 * The end-to-end files that run on both backends with `both`: resources, contexts, MCP, kubectl
 * through the exec credential, TLS, and the tunnel suite but its fault switches. On the real
 * backend these take about 4 minutes on two cores (CI allows the second backend 10).
 * tests/tunnel_faults_test.ts runs on the emulator only: its iroh-owner-flip step failed once on
 * the real backend, where the stack's controllers see the flip through watches a moment later.
 */
const SECOND_BACKEND_FILES = [
  "tests/resources_test.ts",
  "tests/contexts_test.ts",
  "tests/mcp_test.ts",
  "tests/kubeconfig_test.ts",
  "tests/tls_test.ts",
  "tests/tunnel_listen_test.ts",
  "tests/tunnel_named_test.ts",
  "tests/tunnel_daemon_test.ts",
  "tests/tunnel_exit_codes_test.ts",
  "tests/tunnel_restart_test.ts",
  "tests/tunnel_service_test.ts",
  "tests/tunnel_terminal_test.ts",
  "tests/tunnel_ux_test.ts",
  "tests/tunnel_longrun_test.ts",
];

const backendMode = Deno.env.get("DATUMCTL_TEST_APISERVER") || "emulator";
if (!["emulator", "kube", "both"].includes(backendMode)) {
  console.error(`DATUMCTL_TEST_APISERVER must be emulator, kube or both, not ${backendMode}`);
  Deno.exit(2);
}
const needsKube = backendMode !== "emulator";

const decoder = new TextDecoder();
let passed = 0;
let failed = 0;
const failures: string[] = [];

function log(line: string) {
  console.error(`\n== ${line}`);
}

async function run(
  cmd: string[],
  opts: { env?: Record<string, string>; capture?: boolean; cwd?: string } = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      if (!opts.capture) await sink.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { code: status.code, output };
}

function record(name: string, ok: boolean) {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
}

async function check(name: string, cmd: string[]) {
  log(name);
  const { code } = await run(cmd);
  record(name, code === 0);
}

async function have(binary: string): Promise<boolean> {
  const { code } = await run(["sh", "-c", `command -v ${binary}`], { capture: true });
  return code === 0;
}

async function ensureSystemPackages() {
  const wanted: Record<string, string> = {
    "gnome-keyring-daemon": "gnome-keyring",
    "secret-tool": "libsecret-tools",
    "dbus-run-session": "dbus-x11",
    "dbus-launch": "dbus-x11",
    "tmux": "tmux",
    "curl": "curl",
    "/usr/share/bash-completion/bash_completion": "bash-completion",
    "strace": "strace",
    "groff": "groff-base",
    "systemd-analyze": "systemd",
    // The request inspector's page is tested in headless Chromium.
    "chromium": "chromium",
    "openssl": "openssl",
    "kubectl": "kubectl",
    // The conformance test always runs the real API server; the other suites with `kube`/`both`.
    "etcd": "etcd-server",
    ...(await haveGo() ? {} : { go: "golang-go" }),
  };
  const missing = new Set<string>();
  for (const [bin, pkg] of Object.entries(wanted)) if (!(await have(bin))) missing.add(pkg);
  if (missing.size === 0) return;
  log(`installing test packages: ${[...missing].join(" ")}`);
  const sudo = Deno.uid() === 0 ? [] : ["sudo", "-n"];
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  let res = await run(
    [...sudo, "apt-get", "install", "-y", "--no-install-recommends", ...missing],
    {
      env,
    },
  );
  if (res.code !== 0) {
    await run([...sudo, "apt-get", "update", "-q"], { env });
    res = await run([...sudo, "apt-get", "install", "-y", "--no-install-recommends", ...missing], {
      env,
    });
  }
  record("install test packages", res.code === 0);
}

function denoTestCounts(output: string): { passed: number; failed: number } | undefined {
  // deno prints e.g. "ok | 12 passed (3 steps) | 0 failed (1s)" or "FAILED | 1 passed | 2 failed"
  const m = [...output.matchAll(/(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].pop();
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : undefined;
}

async function haveGo(): Promise<boolean> {
  return await have("go");
}

/** Builds the real API server once per machine (the Go build is cached too). */
async function ensureApiServer() {
  if (await findApiServer()) return;
  await check("build the API server (once per machine)", [
    Deno.execPath(),
    "run",
    "-A",
    "scripts/apiserver.ts",
  ]);
}

async function denoTests(
  name: string,
  files: string[],
  wrapper: string[] = [],
  backend: "emulator" | "kube" = "emulator",
) {
  log(name);
  const deno = Deno.execPath();
  const { code, output } = await run([
    ...wrapper,
    deno,
    "test",
    "-A",
    "--parallel",
    ...files,
  ], { env: { NO_COLOR: "1", DATUMCTL_TEST_APISERVER: backend } });
  const counts = denoTestCounts(output);
  if (!counts) {
    record(`${name} (no summary; exit ${code})`, false);
    return;
  }
  passed += counts.passed;
  failed += counts.failed;
  if (counts.failed > 0 || code !== 0) failures.push(name);
  if (code !== 0 && counts.failed === 0) failed++;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function listTestFiles(): Promise<{ normal: string[]; keychain: string[] }> {
  const normal: string[] = [];
  const keychain: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (["node_modules", "target", ".git"].includes(entry.name)) continue;
        await walk(path);
      } else if (/_test\.ts$/.test(entry.name)) {
        (/keychain/.test(entry.name) ? keychain : normal).push(path);
      }
    }
  };
  for (const dir of ["tests", "lib", "local", "commands", "scripts"]) {
    if (await exists(dir)) await walk(dir);
  }
  return { normal: normal.sort(), keychain: keychain.sort() };
}

const onlyIndex = Deno.args.indexOf("--only");
const deno = Deno.execPath();

if (onlyIndex >= 0) {
  const files = Deno.args.slice(onlyIndex + 1);
  if (backendMode !== "kube") await denoTests("selected tests", files);
  if (needsKube) await denoTests("selected tests (real API server)", files, [], "kube");
} else {
  await ensureSystemPackages();
  await ensureApiServer();
  await check("deno install", [deno, "install"]);
  await check("type check", [deno, "check", "."]);
  await check("lint", [deno, "lint"]);
  await check("format check", [deno, "fmt", "--check"]);
  if (await exists("engine/Cargo.toml")) {
    await check("build tunnel engine", [deno, "run", "-A", "scripts/engine.ts", "--if-stale"]);
    log("engine Rust tests");
    const { code, output } = await run(["cargo", "test", "--release", "--quiet"], {
      cwd: "engine",
      env: { CARGO_TARGET_DIR: cargoTargetDir() },
    });
    const results = [...output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)];
    for (const r of results) {
      passed += Number(r[1]);
      failed += Number(r[2]);
    }
    if (code !== 0) record("engine Rust tests", false);
  }
  const { normal, keychain } = await listTestFiles();
  const first = backendMode === "kube" ? "kube" : "emulator";
  if (normal.length > 0) await denoTests("tests", normal, [], first);
  if (backendMode === "both") {
    await denoTests("end-to-end tests on the real API server", SECOND_BACKEND_FILES, [], "kube");
  }
  if (keychain.length > 0) {
    await denoTests("keychain tests (headless Secret Service)", keychain, [
      "sh",
      "scripts/with-secret-service.sh",
    ]);
  }
}

if (failures.length > 0) console.error(`\nfailed: ${failures.join("; ")}`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);
