/**
 * `deno task demo`: the main job end to end on the local Datum stack, as a new user would run
 * it — log in (device flow, auto-approved as alice), pick `acme-corp/infra`, start a small
 * origin, tunnel it, fetch the public URL through the stack's gateway, and print what came back.
 *
 * Everything runs in a throw-away HOME, so the demo never touches your own ~/.datumctl.
 * `--keep` leaves the stack and tunnel running until Ctrl-C.
 */
import { startLocalStack } from "../local/stack.ts";
import { requestViaGateway } from "../local/gateway.ts";
import { buildEngine } from "./engine.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const bold = (s: string) =>
  Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR") ? `\x1b[1m${s}\x1b[0m` : s;
const say = (line: string) => console.error(line);

// A fresh checkout has no engine yet: build it (minutes the first time, then instant).
if (!Deno.env.get("DATUMCTL_ENGINE")) {
  try {
    await buildEngine({ ifStale: true });
  } catch (err) {
    say(`could not build the tunnel engine: ${(err as Error).message}`);
  }
}

const home = await Deno.makeTempDir({ prefix: "datumctl-demo-" });
const stack = await startLocalStack({ autoApprove: "alice@example.com" });
const origin = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  (req) =>
    new Response(
      `Hello from a service on this machine! You asked for ${new URL(req.url).pathname}\n`,
    ),
);
const env: Record<string, string> = {
  HOME: home,
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  XDG_CONFIG_HOME: `${home}/.config`,
  XDG_CACHE_HOME: `${home}/.cache`,
  XDG_DATA_HOME: `${home}/.local/share`,
  DATUMCTL_CREDENTIALS_STORE: "file",
  DATUMCTL_NO_UPDATE_CHECK: "1",
  DENO_NO_UPDATE_CHECK: "1",
  // The local stack's edge: no Datum relays, direct loopback paths. No DATUMCTL_TUNNEL_GATEWAY:
  // `tunnel listen` finds the stack's gateway in the HTTPProxy status, as a new user's would.
  DATUMCTL_TUNNEL_RELAY: "disabled",
  DATUMCTL_TUNNEL_BIND: "127.0.0.1:0",
};
// Share our Deno cache: the fresh HOME would otherwise start the CLI with an empty one.
env.DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;
for (const name of ["NO_COLOR", "TERM", "DATUMCTL_ENGINE"]) {
  const value = Deno.env.get(name);
  if (value) env[name] = value;
}

function datumctl(args: string[], output: "inherit" | "piped" = "inherit") {
  say(`\n${bold(`$ datumctl ${args.join(" ")}`)}`);
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: output,
    stderr: output,
  });
}

/**
 * Prints a child's output streams line by line (never half a line), holding lines back while
 * {@link hold} is on, and spots the ready line.
 */
class ListenerOutput {
  #held: string[] | undefined;
  #lastLineAt = Date.now();
  #onReady!: (url: string) => void;
  /** The public URL, once "Tunnel ready after N sec: https://…" was printed. */
  readonly ready = new Promise<string>((resolve) => (this.#onReady = resolve));

  /** Prints `stream`'s lines until it ends. */
  async forward(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      buffer += decoder.decode(bytes, { stream: true });
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        this.#line(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
    if (buffer) this.#line(buffer);
  }

  #line(line: string) {
    this.#lastLineAt = Date.now();
    if (this.#held) this.#held.push(line);
    else if (line.trim()) say(line);
    const ready = line.match(/Tunnel ready after \d+ sec: (https:\/\/\S+)/);
    if (ready) this.#onReady(ready[1]);
  }

  /** Resolves once no line came for `ms` (at most 3 s). */
  async quiet(ms: number): Promise<void> {
    const until = Date.now() + 3_000;
    while (Date.now() - this.#lastLineAt < ms && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Holds lines back from now on. */
  hold() {
    this.#held ??= [];
  }

  /** Prints the held lines and prints new ones at once again. */
  release() {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const line of held) if (line.trim()) say(line);
  }
}

async function step(args: string[]): Promise<void> {
  const status = await datumctl(args).spawn().status;
  if (!status.success) throw new Error(`datumctl ${args[0]} failed (exit ${status.code})`);
}

let exitCode = 0;
try {
  say(bold("datumctl demo: the main job on a local Datum stack"));
  say(`  OpenID provider ${stack.issuer}`);
  say(`  API emulator    ${stack.api}`);
  say(`  tunnel gateway  ${stack.gateway ?? "(none: build the engine with `deno task engine`)"}`);
  say(`  HOME            ${home}`);

  await step([
    "login",
    "--endpoint",
    stack.api,
    "--auth-endpoint",
    stack.issuer,
    "--client-id",
    stack.clientId,
    "--no-browser",
    "--project",
    "infra",
  ]);
  await step(["ctx"]);
  await step(["whoami"]);
  await step(["get", "projects", "--organization", "acme-corp"]);

  if (!stack.gateway) throw new Error("the tunnel engine is not built; run `deno task engine`");
  const port = (origin.addr as Deno.NetAddr).port;
  say(`\n(a small origin is listening on 127.0.0.1:${port})`);
  const listen = datumctl([
    "tunnel",
    "listen",
    `127.0.0.1:${port}`,
    "--label",
    "demo",
  ], "piped").spawn();
  // The listener's stdout (the ready line) and stderr (its checklist and later status lines)
  // both come through here, so they are printed one whole line at a time and, while the next
  // step runs, held back instead of landing in the middle of its header and output.
  const output = new ListenerOutput();
  const forwarding = Promise.all([
    output.forward(listen.stdout),
    output.forward(listen.stderr),
  ]);
  // The result line on stdout: "Tunnel ready after N sec: https://…".
  const publicUrl = await Promise.race([
    output.ready,
    forwarding.then(() => undefined),
  ]);
  if (!publicUrl) throw new Error("tunnel listen ended before the tunnel was ready");
  // Let the lines printed together with "ready" finish, then hold the listener's output.
  await output.quiet(300);
  output.hold();
  const hostname = new URL(publicUrl).hostname;
  say(`\n${bold(`$ curl ${publicUrl}/hello`)}   (through the stack's gateway: Host: ${hostname})`);
  // A visitor's request as the edge sees it: to the gateway, with the tunnel's Host.
  const res = await requestViaGateway(stack.gateway, hostname, "/hello");
  const body = res.body;
  say(`HTTP ${res.status}`);
  Deno.stdout.writeSync(new TextEncoder().encode(body));

  if (Deno.args.includes("--keep")) {
    say(`\nThe tunnel stays up; press Ctrl+C to stop.`);
    output.release();
    await listen.status;
  } else {
    say(`\n(stopping the tunnel with Ctrl+C)`);
    output.release();
    listen.kill("SIGINT");
    await forwarding;
    const status = await listen.status;
    say(`tunnel listen exited with ${status.code}`);
    const after = await requestViaGateway(stack.gateway, hostname, "/hello");
    say(`after stopping, the public URL answers HTTP ${after.status}`);
    if (res.status !== 200 || !body.includes("Hello from a service")) exitCode = 1;
  }
  say(exitCode === 0 ? bold("\nDemo finished.") : "\nDemo finished with a failure.");
} catch (err) {
  say(`\ndemo failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await origin.shutdown();
  await stack.stop();
  await Deno.remove(home, { recursive: true }).catch(() => {});
}
Deno.exit(exitCode);
