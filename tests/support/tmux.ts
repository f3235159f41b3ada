/**
 * Runs a command on a real terminal (a detached tmux session on its own server socket) so tests
 * can drive prompts with keys and read the screen back.
 *
 * Each terminal has a private tmux server (`-L`), killed by `close()`.
 */

/** A running command on a tmux terminal. */
export interface Terminal {
  /** Sends tmux key names, e.g. `"Down"`, `"Enter"`, `"C-c"`. */
  keys(...names: string[]): Promise<void>;
  /** Types literal text. */
  type(text: string): Promise<void>;
  /** The visible screen. */
  screen(): Promise<string>;
  /** Waits until the screen matches `pattern`; returns the screen (throws after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the command to end; returns its exit code. */
  exitCode(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

async function tmux(socket: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `argv` with exactly `env` (nothing inherited) on a `width`×`height` terminal. Its exit
 * code is written to a file so it can be read after the command ends (also after Ctrl-C).
 */
export async function startTerminal(
  argv: string[],
  env: Record<string, string>,
  options: { width?: number; height?: number } = {},
): Promise<Terminal> {
  const dir = await Deno.makeTempDir({ prefix: "datumctl-tty-" });
  const socket = `datumctl-test-${crypto.randomUUID().slice(0, 8)}`;
  const exitFile = `${dir}/exit-code`;
  const script = `${dir}/run.sh`;
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join("\n");
  await Deno.writeTextFile(
    script,
    // `trap … INT`: Ctrl-C (a SIGINT to the whole foreground group) must end the command, not
    // this shell, so its exit code is still written. A trap with a command, unlike an ignored
    // signal, is not inherited: the command gets SIGINT as it would in a person's shell.
    `#!/bin/sh\n${exports}\nexport TERM=xterm-256color\ntrap 'true' INT\n${
      argv.map(shellQuote).join(" ")
    }\necho $? > ${shellQuote(exitFile)}\nsleep 600\n`,
  );
  await Deno.chmod(script, 0o700);
  await tmux(socket, [
    "-f",
    "/dev/null",
    "new-session",
    "-d",
    "-x",
    String(options.width ?? 120),
    "-y",
    String(options.height ?? 40),
    `sh ${shellQuote(script)}`,
  ]);

  const screen = () => tmux(socket, ["capture-pane", "-p", "-J"]);
  const readExit = async () => {
    try {
      const text = (await Deno.readTextFile(exitFile)).trim();
      return text === "" ? undefined : Number(text);
    } catch {
      return undefined;
    }
  };
  return {
    keys: async (...names) => {
      await tmux(socket, ["send-keys", ...names]);
    },
    type: async (text) => {
      await tmux(socket, ["send-keys", "-l", text]);
    },
    screen,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        last = await screen();
        if (pattern.test(last)) return last;
        if ((await readExit()) !== undefined && !pattern.test(last)) {
          // The command ended; one last look in case its output arrived with the exit.
          last = await screen();
          if (pattern.test(last)) return last;
          throw new Error(`command ended before ${pattern} appeared; screen:\n${last}`);
        }
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${pattern}; screen:\n${last}`);
    },
    async exitCode(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const code = await readExit();
        if (code !== undefined) return code;
        await sleep(100);
      }
      throw new Error(`command did not end in time; screen:\n${await screen()}`);
    },
    async close() {
      await tmux(socket, ["kill-server"]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
