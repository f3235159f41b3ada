/**
 * Helpers for the tunnel end-to-end tests: a logged-in HOME on the local stack, a small origin
 * server, a `tunnel listen` child whose JSON event stream (or human output) can be awaited, and
 * requests to a tunnel's public hostname through the stack's gateway.
 */
import { cliCommand, isolatedEnv, makeHome, runCli } from "./cli.ts";
import type { LocalStack } from "./stack.ts";
import { loginFlags, tokenAuth } from "./auth.ts";
import { ApiClient } from "../../lib/api/client.ts";
import { projectControlPlaneUrl } from "../../lib/api/urls.ts";
import { requestViaGateway } from "../../local/gateway.ts";

/** The environment every tunnel CLI run gets: file credentials and the stack's gateway. */
export function tunnelEnv(
  stack: LocalStack,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { DATUMCTL_CREDENTIALS_STORE: "file", ...extra };
  if (stack.gateway) env.DATUMCTL_TUNNEL_GATEWAY = stack.gateway;
  const engine = Deno.env.get("DATUMCTL_ENGINE");
  if (engine) env.DATUMCTL_ENGINE = engine;
  return env;
}

/** A fresh HOME logged in as `email` with the project `project` as the current context. */
export async function loginHome(
  stack: LocalStack,
  email: string,
  project = "infra",
): Promise<string> {
  const home = await makeHome();
  await stack.setAutoApprove(email);
  const res = await runCli([
    "login",
    ...loginFlags(stack),
    "--no-browser",
    "--project",
    project,
  ], { home, env: tunnelEnv(stack) });
  if (res.code !== 0) throw new Error(`login failed (${res.code}):\n${res.stderr}`);
  return home;
}

/**
 * A fresh HOME logged in with the stack's service-account key file (`login --credentials`, the
 * JWT-bearer grant), as on a headless server, with `project` as the current context.
 */
export async function serviceAccountHome(stack: LocalStack, project = "infra"): Promise<string> {
  const home = await makeHome();
  const keyFile = `${home}/sa-key.json`;
  await Deno.writeTextFile(keyFile, JSON.stringify(await stack.serviceAccountKeyFile()));
  const res = await runCli([
    "login",
    "--credentials",
    keyFile,
    "--endpoint",
    stack.api,
    "--auth-endpoint",
    stack.issuer,
    "--project",
    project,
  ], { home, env: tunnelEnv(stack) });
  if (res.code !== 0) throw new Error(`service-account login failed (${res.code}):\n${res.stderr}`);
  return home;
}

/** A local HTTP service answering `hello from origin <path>`; counts its requests. */
export interface Origin {
  port: number;
  requests: number;
  close(): Promise<void>;
}

/** Starts an origin on 127.0.0.1 (a free port, or `port`). */
export function startOrigin(port = 0): Origin {
  const origin = {
    port: 0,
    requests: 0,
    close: async () => {},
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    origin.requests++;
    return new Response(`hello from origin ${new URL(req.url).pathname}\n`);
  });
  origin.port = server.addr.port;
  origin.close = () => server.shutdown();
  return origin;
}

/** An answer through the gateway. */
export interface PublicAnswer {
  status: number;
  body: string;
}

/** GETs `path` of tunnel `hostname` through the local gateway, as a visitor's browser would. */
export async function publicGet(
  gateway: string,
  hostname: string,
  path = "/",
): Promise<PublicAnswer> {
  const { status, body } = await requestViaGateway(gateway, hostname, path);
  return { status, body };
}

/** Polls {@link publicGet} until `accept` holds (or throws after `timeoutMs`). */
export async function waitForPublic(
  gateway: string,
  hostname: string,
  accept: (answer: PublicAnswer) => boolean,
  timeoutMs = 30_000,
): Promise<PublicAnswer> {
  const until = Date.now() + timeoutMs;
  let last: PublicAnswer | undefined;
  while (Date.now() < until) {
    last = await publicGet(gateway, hostname).catch((e) => ({ status: 0, body: String(e) }));
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`public URL never matched; last answer ${JSON.stringify(last)}`);
}

// deno-lint-ignore no-explicit-any
type Event = Record<string, any>;

/** A running `datumctl tunnel listen` child. */
export interface Listener {
  /** JSON events seen so far (with `-o json`). */
  events: Event[];
  stdout(): string;
  stderr(): string;
  /** Waits for the first event matching `match` (JSON mode). */
  waitForEvent(match: (e: Event) => boolean, timeoutMs?: number): Promise<Event>;
  /** Waits until stderr (human mode) matches `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal. */
  signal(sig: Deno.Signal): void;
  /** Resolves with the exit code. */
  exited(timeoutMs?: number): Promise<number>;
}

/** Starts `datumctl tunnel listen <args>` with `home`. */
export function startListener(
  home: string,
  args: string[],
  env: Record<string, string>,
): Listener {
  return startTunnelProcess(home, ["tunnel", "listen", ...args], env);
}

/**
 * Starts a long-running `datumctl <args>` (e.g. `tunnel listen`, `tunnel run`) with `home`,
 * collecting its output and JSON event lines.
 */
export function startTunnelProcess(
  home: string,
  args: string[],
  env: Record<string, string>,
): Listener {
  const [cmd, ...rest] = cliCommand();
  const child = new Deno.Command(cmd, {
    args: [...rest, ...args],
    env: isolatedEnv(home, env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const events: Event[] = [];
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  const decoder = () => new TextDecoder();
  const pumpOut = (async () => {
    const d = decoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      const text = d.decode(chunk, { stream: true });
      out += text;
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line.startsWith("{")) {
          try {
            events.push(JSON.parse(line));
          } catch { /* human output */ }
        }
      }
      wake();
    }
  })();
  const pumpErr = (async () => {
    const d = decoder();
    for await (const chunk of child.stderr) {
      err += d.decode(chunk, { stream: true });
      wake();
    }
  })();
  let code: number | undefined;
  const status = child.status.then(async (s) => {
    await Promise.all([pumpOut, pumpErr]);
    code = s.code;
    wake();
    return s.code;
  });

  const waitUntil = async <T>(probe: () => T | undefined, timeoutMs: number, what: string) => {
    const until = Date.now() + timeoutMs;
    while (true) {
      const hit = probe();
      if (hit !== undefined) return hit;
      if (code !== undefined) {
        throw new Error(
          `datumctl ${
            args.join(" ")
          } exited (${code}) before ${what}\nstdout:\n${out}\nstderr:\n${err}`,
        );
      }
      if (Date.now() > until) {
        throw new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  };

  return {
    events,
    stdout: () => out,
    stderr: () => err,
    waitForEvent: (match, timeoutMs = 60_000) =>
      waitUntil(() => events.find(match), timeoutMs, "the event"),
    waitForStderr: (pattern, timeoutMs = 60_000) =>
      waitUntil(() => (pattern.test(err) ? err : undefined), timeoutMs, `stderr ${pattern}`),
    signal: (sig) => {
      try {
        child.kill(sig);
      } catch { /* gone */ }
    },
    exited: async (timeoutMs = 60_000) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<number>((_, reject) => {
        timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
          reject(new Error(`listener did not exit\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([status, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A client for a project's control plane with a token the stack mints for `email`. */
export async function projectApi(
  stack: LocalStack,
  email: string,
  project: string,
): Promise<ApiClient> {
  return new ApiClient({
    auth: await tokenAuth(stack, email),
    baseUrl: projectControlPlaneUrl(stack.api, project),
    retry: { attempts: 6 },
  });
}

/** A local port that counts every TCP connection made to it and passes each on to an origin. */
export interface ConnectionTrap {
  port: number;
  /** Connections accepted so far: any dial of this port, an HTTP request or not. */
  connections: number;
  close(): Promise<void>;
}

/**
 * Starts a {@link ConnectionTrap} on 127.0.0.1 in front of its own {@link startOrigin}, so a
 * target nobody agreed to can be told apart from one that was: it is dialled or it is not.
 */
export function startConnectionTrap(): ConnectionTrap {
  const origin = startOrigin();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  const trap: ConnectionTrap = {
    port: listener.addr.port,
    connections: 0,
    close: async () => {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed by its peer */ }
      }
      await Promise.allSettled(pipes);
      await accepting;
      await origin.close();
    },
  };
  const pass = async (conn: Deno.Conn) => {
    open.add(conn);
    try {
      const up = await Deno.connect({ hostname: "127.0.0.1", port: origin.port });
      open.add(up);
      await Promise.allSettled([
        conn.readable.pipeTo(up.writable),
        up.readable.pipeTo(conn.writable),
      ]);
      open.delete(up);
    } finally {
      open.delete(conn);
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        trap.connections++;
        pipes.push(pass(conn).catch(() => {}));
      }
    } catch { /* closed */ }
  })();
  return trap;
}

/** The HTTPProxy collection of the `default` namespace, as the project's control plane has it. */
export const HTTP_PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";

/**
 * Another project member's edit of tunnel `id`'s HTTPProxy backend to `endpoint`, keeping its
 * Connector: what anyone in the project may do from anywhere.
 */
export async function editBackend(api: ApiClient, id: string, endpoint: string): Promise<void> {
  type Rules = { backends?: { endpoint: string; connector?: { name: string } }[] }[];
  const proxy = await api.get<{ spec: { rules: Rules } }>(`${HTTP_PROXIES}/${id}`);
  const rules = proxy.spec.rules.map((r) =>
    r.backends ? { ...r, backends: r.backends.map((b) => ({ ...b, endpoint })) } : r
  );
  await api.patchMerge(`${HTTP_PROXIES}/${id}`, { spec: { rules } });
}
