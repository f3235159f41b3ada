/**
 * The IO abstraction commands write through, so tests can capture output and fake a TTY.
 *
 * Results go to `out`, progress, prompts and errors to `err` (design: "Progress and prompts go
 * to stderr; results go to stdout").
 */

/** Where a command reads and writes; swap it in tests. */
export interface IO {
  out(text: string): void;
  err(text: string): void;
  /** What is piped in (`apply -f -`); read it once. */
  readonly stdin: ReadableStream<Uint8Array>;
  /** True when stdin is a terminal a prompt may read from. */
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Colour and symbols on stderr: only on a TTY and without `NO_COLOR`. */
  readonly color: boolean;
  env(name: string): string | undefined;
}

const encoder = new TextEncoder();

function writeAllSync(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** The process's real stdin/stdout/stderr and environment. */
export function processIO(): IO {
  const stderrIsTTY = Deno.stderr.isTerminal();
  return {
    out: (text) => writeAllSync(Deno.stdout, text),
    err: (text) => writeAllSync(Deno.stderr, text),
    // A getter: the stream takes stdin over only when something reads it (a prompt reads the
    // terminal itself).
    get stdin() {
      return Deno.stdin.readable;
    },
    stdinIsTTY: Deno.stdin.isTerminal(),
    stdoutIsTTY: Deno.stdout.isTerminal(),
    stderrIsTTY,
    color: stderrIsTTY && !Deno.env.get("NO_COLOR"),
    env: (name) => Deno.env.get(name),
  };
}

/** An in-memory IO for tests: collects what was written; `input` is what stdin holds. */
export function memoryIO(
  env: Record<string, string> = {},
  tty = false,
  input = "",
): IO & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    stdin: new Blob([input]).stream(),
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
    stdinIsTTY: tty,
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
    color: false,
    env: (name: string) => env[name],
  };
  return io;
}
