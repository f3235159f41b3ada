/**
 * Runs the datumctl CLI as a subprocess with its own HOME, the way end-to-end tests use it, and
 * checks what it produced ({@link assertSucceeded}, {@link readUntil} for a child still running).
 */
import assert from "node:assert/strict";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link runCli}. */
export interface CliOptions {
  /** HOME for the process; use {@link makeHome}. */
  home: string;
  env?: Record<string, string>;
  stdin?: string;
  /** Abort signal; the child is killed with SIGINT when it fires. */
  signal?: AbortSignal;
}

/** A fresh, empty HOME folder for one test. */
export async function makeHome(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "datumctl-home-" });
}

/** The argv that starts datumctl from source (for tests that need a raw child process). */
export function cliCommand(): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", MAIN];
}

/** The Deno cache of this process, shared with child CLI processes. */
export function parentDenoDir(): string {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/deno`;
  return `${Deno.env.get("HOME")}/.cache/deno`;
}

/** Environment that isolates a CLI run from the developer's machine. */
export function isolatedEnv(
  home: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_CACHE_HOME: `${home}/.cache`,
    XDG_DATA_HOME: `${home}/.local/share`,
    DATUMCTL_NO_UPDATE_CHECK: "1",
  };
  // The child gets a fresh HOME, which would otherwise give it an empty Deno cache: it would
  // fetch npm metadata again on every run (slow, and needs the registry).
  env.DENO_DIR = parentDenoDir();
  for (const name of ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `datumctl args…` and collects its output. */
export async function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  const [cmd, ...rest] = cliCommand();
  const child = new Deno.Command(cmd, {
    args: [...rest, ...args],
    env: isolatedEnv(opts.home, opts.env),
    clearEnv: true,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.signal) {
    opts.signal.addEventListener("abort", () => {
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
    });
  }
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    } catch (err) {
      // The CLI may stop reading early (e.g. stdin over its size cap) and exit: that is its answer.
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    }
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Fails with the run's stderr unless it exited 0; `what` names the step in the message. */
export function assertSucceeded(res: CliResult, what: string): void {
  assert.equal(res.code, 0, `${what} failed (exit ${res.code}):\n${res.stderr}`);
}

/**
 * Reads a child's output stream into `seen.text` until `pattern` matches what arrived so far,
 * failing after 30 s or when the stream ends first.
 */
export async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  seen: { text: string },
  pattern: RegExp,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!pattern.test(seen.text)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${pattern}; got:\n${seen.text}`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk.done) throw new Error(`stream ended before ${pattern}; got:\n${seen.text}`);
      seen.text += chunk.value;
    } finally {
      clearTimeout(timer);
    }
  }
}
