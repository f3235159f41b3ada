/**
 * The one way datumctl asks a person something: a list to choose from, a filterable list, or a
 * yes/no question, drawn with `@inquirer/prompts` on the IO's stderr (stdout stays for results).
 *
 * Every question says what answers it without a terminal: with no TTY on stdin it is not asked,
 * and a usage error names the flag instead. Ctrl-C at a prompt is an {@link InterruptedError}
 * marked silent (exit 130 and no error line: the person chose to stop).
 *
 * The prompt package and node:stream are loaded when a question is asked, by computed
 * specifiers, so modules that may prompt stay light to load (docs/performance.md).
 */
import type { IO } from "../core/io.ts";
import { InterruptedError, UsageError } from "../core/errors.ts";

/** What a question does without a terminal: fail with this message and a hint naming the flag. */
export interface WithoutTerminal {
  message: string;
  /** Names the flag (or argument) that answers the question, e.g. `Pass --yes.` */
  hint: string;
}

/** One entry of a list. */
export interface Choice<T> {
  value: T;
  /** The line shown in the list (already sanitised for the terminal). */
  name: string;
  /** Shown after the question once chosen; `name` if unset. */
  short?: string;
}

/** A choice among a list, with the arrow keys. */
export interface SelectQuestion<T> {
  message: string;
  choices: Choice<T>[];
  default?: T;
  pageSize?: number;
  withoutTerminal: WithoutTerminal;
}

/** A choice among a list the person filters by typing. */
export interface SearchQuestion<T> {
  message: string;
  /** The entries matching what was typed so far. */
  source: (term: string | undefined) => Choice<T>[];
  default?: T;
  pageSize?: number;
  withoutTerminal: WithoutTerminal;
}

/** A `[y/N]` question. */
export interface ConfirmQuestion {
  message: string;
  default?: boolean;
  withoutTerminal: WithoutTerminal;
}

/** Asks questions on the IO's terminal. */
export interface Prompter {
  select<T>(question: SelectQuestion<T>): Promise<T>;
  search<T>(question: SearchQuestion<T>): Promise<T>;
  confirm(question: ConfirmQuestion): Promise<boolean>;
}

type Prompts = typeof import("@inquirer/prompts");
type NodeStream = typeof import("node:stream");

/** A Node stream inquirer can draw on that writes through `io.err`, sized like the terminal. */
function stderrStream(io: IO, stream: NodeStream): NodeJS.WritableStream {
  const decoder = new TextDecoder();
  const size = () => {
    try {
      return Deno.consoleSize();
    } catch {
      return undefined;
    }
  };
  const writable = new stream.Writable({
    write(chunk: Uint8Array | string, _encoding, done) {
      io.err(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
      done();
    },
  });
  // Inquirer wraps and pages by the terminal's size, read from its output stream.
  return Object.defineProperties(writable, {
    isTTY: { get: () => io.stderrIsTTY },
    columns: { get: () => io.stderrIsTTY ? size()?.columns : undefined },
    rows: { get: () => io.stderrIsTTY ? size()?.rows : undefined },
  });
}

/** The prompter over `io`. */
export function prompter(io: IO): Prompter {
  const ask = async <T>(
    withoutTerminal: WithoutTerminal,
    run: (prompts: Prompts, output: NodeJS.WritableStream) => Promise<T>,
  ): Promise<T> => {
    if (!io.stdinIsTTY) throw new UsageError(withoutTerminal.message, withoutTerminal.hint);
    // Computed specifiers: `deno run` resolves the packages a literal import() names whenever
    // this module loads.
    const [promptsPackage, streamModule] = ["@inquirer/prompts", "node:stream"];
    const [prompts, stream] = await Promise.all([
      import(promptsPackage) as Promise<Prompts>,
      import(streamModule) as Promise<NodeStream>,
    ]);
    try {
      return await run(prompts, stderrStream(io, stream));
    } catch (err) {
      if (err instanceof Error && err.name === "ExitPromptError") {
        throw new InterruptedError(undefined, { silent: true });
      }
      throw err;
    }
  };
  return {
    select: (q) =>
      ask(q.withoutTerminal, (p, output) =>
        p.select({
          message: q.message,
          choices: q.choices,
          default: q.default,
          pageSize: q.pageSize,
        }, { output })),
    search: (q) =>
      ask(q.withoutTerminal, (p, output) =>
        p.search({
          message: q.message,
          source: q.source,
          default: q.default,
          pageSize: q.pageSize,
        }, { output })),
    confirm: (q) =>
      ask(
        q.withoutTerminal,
        (p, output) => p.confirm({ message: q.message, default: q.default }, { output }),
      ),
  };
}
