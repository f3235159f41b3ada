/**
 * Runs a datumctl command line inside the test process — main.ts's `run` with a scripted IO, an
 * environment of the test's own (its HOME included), stdin text and an HTTP client the test
 * answers — for fast unit tests beside each command. What only a process shows (signals, TTYs,
 * exit on Ctrl-C, the module graph) stays with the subprocess tests (./cli.ts).
 *
 * The command sees only `env`; lib/ functions called without an environment still default to
 * the process's (`Deno.env`), so a command is fit for this only once its path passes the IO's
 * environment down (ctx, get, version and the scope/login loading do).
 */
import { processContext, run } from "../../main.ts";
import { memoryIO } from "../../lib/core/io.ts";
import { seedLoggedInHome } from "../../bench/startup.ts";

/** What {@link runInProcess} takes: all optional. */
export interface InProcessOptions {
  /** The whole environment the command sees (nothing of the test process's leaks in). */
  env?: Record<string, string>;
  /** Answers every HTTP request; the default fails the request, so no test reaches a network. */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** All of stdin, for `-f -`. */
  stdin?: string;
  /** Whether stdin, stdout and stderr are terminals. */
  tty?: boolean;
  /** The clock (default the system's). */
  now?: () => Date;
}

/** What a command line did: its exit code and everything it wrote. */
export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Every HTTP request it sent, in order, as `METHOD URL`. */
  requests: string[];
}

/** Runs `args` in process and returns the exit code and output. */
export async function runInProcess(
  args: string[],
  options: InProcessOptions = {},
): Promise<InProcessResult> {
  const io = memoryIO(options.env ?? {}, options.tty ?? false);
  const requests: string[] = [];
  const answer = options.fetch ??
    ((request: Request) => {
      throw new TypeError(`no HTTP answer scripted for ${request.method} ${request.url}`);
    });
  const ctx = {
    ...processContext(io, "0.0.0-test"),
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      requests.push(`${request.method} ${request.url}`);
      return await answer(request);
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.stdin !== undefined ? { readStdin: () => Promise.resolve(options.stdin!) } : {}),
  };
  const code = await run(args, ctx);
  return { code, stdout: io.stdout, stderr: io.stderr, requests };
}

/**
 * A HOME with one login (alice@example.com on https://api.datum.net, an access token valid for
 * an hour, kept in the file store), the contexts acme-corp and acme-corp/infra (the current one)
 * and a fresh context cache; returns the environment to run commands in it.
 */
export async function loggedInEnv(): Promise<Record<string, string>> {
  const home = await Deno.makeTempDir({ prefix: "datumctl-inproc-" });
  await seedLoggedInHome(home);
  return {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_CACHE_HOME: `${home}/.cache`,
    XDG_DATA_HOME: `${home}/.local/share`,
    DATUMCTL_CREDENTIALS_STORE: "file",
    DATUMCTL_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
  };
}

/** A JSON answer. */
export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}
