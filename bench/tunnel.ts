/**
 * `deno task bench tunnel [--json] [--mib N] [--only a,b]`: tunnel throughput and latency on
 * loopback, side by side with direct TCP and with peer tools, each figure with its ratio to
 * direct TCP.
 *
 * Paths measured, in one run, against one origin process:
 *   direct       the client talks to the origin
 *   datumctl     client → Gateway (this process) → iroh QUIC → Agent (own process) → origin
 *   + inspector  the same with the request inspector on in the agent (capture and its server);
 *                its ratio to the plain tunnel is printed at the end
 *   frp (TLS)    client → frps → TLS + yamux → frpc → origin (frp v0.65.0, built with go install)
 *   bore         client → bore server → bore local → origin (plain TCP; cargo install bore-cli)
 *   rathole      client → server → Noise → client → origin (cargo install rathole)
 * A peer tool that cannot be built here is skipped with a note.
 *
 * Each path gets: download and upload of `--mib` MiB (default 1024) on one connection, then
 * request latency (small GET, keep-alive) at 1 and at 64 concurrent connections. The load
 * generator and the origin speak raw HTTP/1.1 so that they cost the same on every path.
 *
 * Roles: the same file runs the origin (`--role origin`) and the agent (`--role agent`) as
 * child processes, each printing one JSON line when ready.
 */
import { cacheDir } from "../lib/store/paths.ts";
import { generateSecretKey, startAgent, startGateway } from "../lib/tunnel/engine.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_CAPACITY } from "../lib/tunnel/inspector/address.ts";
import { startInspector } from "../lib/tunnel/inspector/server.ts";

const MiB = 1024 * 1024;
const SMALL_BODY = new Uint8Array(64).fill(0x61);
const BLOCK = new Uint8Array(MiB).map((_, i) => (i * 31) & 0xff);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FRP_VERSION = "v0.65.0";
const BORE_VERSION = "0.6.0";
const RATHOLE_VERSION = "0.5.0";

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 on a Deno.Conn: the origin's and the load generator's only protocol code.

/** A connection with a read buffer, for parsing heads and counting bodies. */
class Wire {
  #pending = new Uint8Array(0);
  readonly #buf = new Uint8Array(MiB);
  constructor(readonly conn: Deno.Conn) {}

  /** Reads up to the end of a head; returns its text, or null at a clean EOF. */
  async head(): Promise<string | null> {
    for (;;) {
      const end = indexOfBlankLine(this.#pending);
      if (end >= 0) {
        const text = decoder.decode(this.#pending.subarray(0, end));
        this.#pending = this.#pending.slice(end + 4);
        return text;
      }
      const n = await this.conn.read(this.#buf);
      if (n === null) {
        if (this.#pending.length === 0) return null;
        throw new Error("connection closed inside a head");
      }
      const next = new Uint8Array(this.#pending.length + n);
      next.set(this.#pending);
      next.set(this.#buf.subarray(0, n), this.#pending.length);
      this.#pending = next;
    }
  }

  /** Reads and discards exactly `length` body bytes. */
  async skip(length: number): Promise<void> {
    let left = length;
    const buffered = Math.min(left, this.#pending.length);
    this.#pending = this.#pending.slice(buffered);
    left -= buffered;
    while (left > 0) {
      const n = await this.conn.read(this.#buf.subarray(0, Math.min(left, this.#buf.length)));
      if (n === null) throw new Error(`connection closed with ${left} body bytes to go`);
      left -= n;
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Writes `length` bytes of the repeating block. */
  async writeBody(length: number): Promise<void> {
    let left = length;
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      await this.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
      left -= n;
    }
  }
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function contentLength(head: string): number {
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m) throw new Error(`no content-length in ${JSON.stringify(head.slice(0, 200))}`);
  return Number(m[1]);
}

function statusOf(head: string): number {
  return Number(head.split(" ")[1]);
}

// ---------------------------------------------------------------------------------------------
// Origin role.

async function serveOrigin() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ port: (listener.addr as Deno.NetAddr).port }));
  for await (const conn of listener) {
    conn.setNoDelay(true);
    serveOriginConn(new Wire(conn)).catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch { /* already closed */ }
    });
  }
}

async function serveOriginConn(wire: Wire) {
  for (;;) {
    const head = await wire.head();
    if (head === null) return;
    const [method, target] = head.split(" ");
    const url = new URL(target, "http://origin");
    if (method === "GET" && url.pathname === "/small") {
      await wire.write(encoder.encode(
        `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${SMALL_BODY.length}\r\n\r\n`,
      ));
      await wire.write(SMALL_BODY);
    } else if (method === "GET" && url.pathname === "/download") {
      const bytes = Number(url.searchParams.get("bytes"));
      await wire.write(encoder.encode(
        `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${bytes}\r\n\r\n`,
      ));
      await wire.writeBody(bytes);
    } else if (method === "POST" && url.pathname === "/upload") {
      const length = contentLength(head);
      await wire.skip(length);
      const body = encoder.encode(String(length));
      await wire.write(encoder.encode(
        `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n`,
      ));
      await wire.write(body);
    } else {
      await wire.write(encoder.encode("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Agent role: the user's side, in its own process as it would be on a user's machine.

async function serveAgent(originPort: number, inspect: boolean) {
  const agent = await startAgent({
    secretKey: generateSecretKey(),
    relays: "disabled",
    bindAddr: "127.0.0.1:0",
  });
  agent.setAllowlist([{ host: "127.0.0.1", port: originPort, enabled: true }]);
  if (inspect) {
    // What `tunnel listen --inspect` runs: the capture with its defaults, and the page's server.
    startInspector(agent.capture(), {
      hostname: "127.0.0.1",
      port: 0,
      portIsDefault: false,
      bodyLimit: DEFAULT_BODY_LIMIT,
      capacity: DEFAULT_CAPACITY,
      showSecrets: false,
    });
  }
  console.log(
    JSON.stringify({
      endpointId: agent.endpointId,
      directAddresses: agent.address()?.direct ?? [],
    }),
  );
  // The engine's threads do not keep Deno's event loop alive: a timer does, until killed.
  setInterval(() => agent.stats(), 60_000);
}

// ---------------------------------------------------------------------------------------------
// Load generator.

interface Target {
  host: string;
  port: number;
}

async function open(target: Target): Promise<Wire> {
  const conn = await Deno.connect({ hostname: target.host, port: target.port });
  conn.setNoDelay(true);
  return new Wire(conn);
}

function requestHead(method: string, path: string, target: Target, extra = ""): Uint8Array {
  return encoder.encode(
    `${method} ${path} HTTP/1.1\r\nhost: ${target.host}:${target.port}\r\n${extra}\r\n`,
  );
}

/** GET `bytes` on one connection; MiB/s from request to last byte. */
async function download(target: Target, bytes: number): Promise<number> {
  const wire = await open(target);
  try {
    const start = performance.now();
    await wire.write(requestHead("GET", `/download?bytes=${bytes}`, target));
    const head = await wire.head();
    if (head === null || statusOf(head) !== 200) throw new Error(`download: ${head}`);
    const length = contentLength(head);
    if (length !== bytes) throw new Error(`download: expected ${bytes} bytes, head says ${length}`);
    await wire.skip(length);
    return bytes / MiB / ((performance.now() - start) / 1000);
  } finally {
    wire.conn.close();
  }
}

/** POST `bytes` on one connection; MiB/s from first byte sent to the origin's answer. */
async function upload(target: Target, bytes: number): Promise<number> {
  const wire = await open(target);
  try {
    const start = performance.now();
    const reply = (async () => {
      const head = await wire.head();
      if (head === null || statusOf(head) !== 200) throw new Error(`upload: ${head}`);
      await wire.skip(contentLength(head));
    })();
    await wire.write(requestHead("POST", "/upload", target, `content-length: ${bytes}\r\n`));
    await wire.writeBody(bytes);
    await reply;
    return bytes / MiB / ((performance.now() - start) / 1000);
  } finally {
    wire.conn.close();
  }
}

interface Latency {
  p50: number;
  p99: number;
}

/** `connections` keep-alive connections, each sending `perConnection` small GETs in turn. */
async function latency(
  target: Target,
  connections: number,
  perConnection: number,
): Promise<Latency> {
  const warmup = 3;
  const samples: number[] = [];
  const head = requestHead("GET", "/small", target);
  const worker = async () => {
    const wire = await open(target);
    try {
      for (let i = 0; i < perConnection + warmup; i++) {
        const start = performance.now();
        await wire.write(head);
        const reply = await wire.head();
        if (reply === null || statusOf(reply) !== 200) throw new Error(`latency: ${reply}`);
        await wire.skip(contentLength(reply));
        if (i >= warmup) samples.push(performance.now() - start);
      }
    } finally {
      wire.conn.close();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/** Polls until a small GET through `target` succeeds. */
async function waitReady(target: Target, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await latency(target, 1, 1);
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${what} did not become ready: ${last}`);
}

// ---------------------------------------------------------------------------------------------
// Child processes and peer tools.

const children: Deno.ChildProcess[] = [];

/** Starts a process; with `readyLine`, resolves with its first stdout line. */
async function spawn(
  cmd: string,
  args: string[],
  opts: { readyLine?: boolean; cwd?: string } = {},
): Promise<{ child: Deno.ChildProcess; line?: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    stdin: "null",
    stdout: opts.readyLine ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  children.push(child);
  // Drain stderr so a chatty tool never blocks; keep the tail for error messages.
  let stderrTail = "";
  (async () => {
    for await (const chunk of child.stderr) {
      stderrTail = (stderrTail + decoder.decode(chunk)).slice(-2000);
    }
  })();
  if (!opts.readyLine) return { child };
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd} exited before it was ready: ${stderrTail}`);
    text += decoder.decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { child, line: text.slice(0, text.indexOf("\n")) };
}

async function stopChildren() {
  for (const child of children.splice(0)) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
}

function unusedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string) {
  const out = await new Deno.Command(cmd, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const tail = decoder.decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd} ${args.slice(0, 2).join(" ")} failed: ${tail}`);
  }
  return decoder.decode(out.stdout);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const toolsDir = `${cacheDir()}/bench-tools`;
const toolsBin = `${toolsDir}/bin`;

/**
 * frps and frpc from the Go module proxy. `go install pkg@version` needs the module's version
 * list, which the proxy here refuses, so the same install runs inside a one-line module that
 * requires the pinned release.
 */
async function ensureFrp(): Promise<void> {
  if (await exists(`${toolsBin}/frps`) && await exists(`${toolsBin}/frpc`)) return;
  const moduleDir = `${toolsDir}/frp-module`;
  await Deno.mkdir(moduleDir, { recursive: true });
  await Deno.writeTextFile(
    `${moduleDir}/go.mod`,
    `module datumctl.bench/tools\n\ngo 1.24\n\nrequire github.com/fatedier/frp ${FRP_VERSION}\n`,
  );
  console.error(`building frp ${FRP_VERSION} with go install…`);
  await run(
    "go",
    [
      "install",
      "github.com/fatedier/frp/cmd/frps",
      "github.com/fatedier/frp/cmd/frpc",
    ],
    { GOBIN: toolsBin, GOFLAGS: "-mod=mod" },
    moduleDir,
  );
}

async function ensureCargoTool(binary: string, krate: string, extra: string[]): Promise<void> {
  if (await exists(`${toolsBin}/${binary}`)) return;
  console.error(`building ${krate} with cargo install…`);
  const args = ["install", "--root", toolsDir, krate, ...extra];
  try {
    await run("cargo", [...args, "--locked"]);
  } catch {
    // An old lock file may pin crates today's compiler rejects (rathole 0.5.0 pins a `time`
    // that no longer builds): retry with the newest compatible versions.
    await run("cargo", args);
  }
}

interface PathSetup {
  name: string;
  note?: string;
  start(originPort: number): Promise<Target>;
}

async function startDatumctl(originPort: number, inspect = false): Promise<Target> {
  const { line } = await spawn(Deno.execPath(), [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--role",
    "agent",
    "--origin-port",
    String(originPort),
    ...(inspect ? ["--inspect"] : []),
  ], { readyLine: true });
  const address = JSON.parse(line!) as { endpointId: string; directAddresses: string[] };
  const gateway = await startGateway();
  cleanups.push(() => gateway.close());
  gateway.setRoutes([{
    hostname: "127.0.0.1",
    endpointId: address.endpointId,
    directAddresses: address.directAddresses,
    targetHost: "localhost",
    targetPort: originPort,
    online: true,
  }]);
  const target = { host: "127.0.0.1", port: gateway.port };
  await waitReady(target, "datumctl tunnel");
  return target;
}

async function startFrp(originPort: number): Promise<Target> {
  await ensureFrp();
  const dir = await Deno.makeTempDir({ prefix: "bench-frp-" });
  const controlPort = unusedPort();
  const remotePort = unusedPort();
  await Deno.writeTextFile(
    `${dir}/frps.toml`,
    `bindAddr = "127.0.0.1"\nbindPort = ${controlPort}\ntransport.tls.force = true\nlog.level = "error"\n`,
  );
  await Deno.writeTextFile(
    `${dir}/frpc.toml`,
    [
      `serverAddr = "127.0.0.1"`,
      `serverPort = ${controlPort}`,
      `loginFailExit = false`,
      `transport.tls.enable = true`,
      `log.level = "error"`,
      `[[proxies]]`,
      `name = "origin"`,
      `type = "tcp"`,
      `localIP = "127.0.0.1"`,
      `localPort = ${originPort}`,
      `remotePort = ${remotePort}`,
      "",
    ].join("\n"),
  );
  await spawn(`${toolsBin}/frps`, ["-c", `${dir}/frps.toml`]);
  await spawn(`${toolsBin}/frpc`, ["-c", `${dir}/frpc.toml`]);
  const target = { host: "127.0.0.1", port: remotePort };
  await waitReady(target, "frp");
  return target;
}

async function startBore(originPort: number): Promise<Target> {
  await ensureCargoTool("bore", `bore-cli@${BORE_VERSION}`, []);
  const remotePort = unusedPort();
  await spawn(`${toolsBin}/bore`, ["server", "--bind-addr", "127.0.0.1"]);
  await new Promise((r) => setTimeout(r, 300));
  await spawn(`${toolsBin}/bore`, [
    "local",
    String(originPort),
    "--local-host",
    "127.0.0.1",
    "--to",
    "127.0.0.1",
    "--port",
    String(remotePort),
  ]);
  const target = { host: "127.0.0.1", port: remotePort };
  await waitReady(target, "bore");
  return target;
}

async function startRathole(originPort: number): Promise<Target> {
  await ensureCargoTool("rathole", `rathole@${RATHOLE_VERSION}`, [
    "--no-default-features",
    "--features",
    "server,client,noise",
  ]);
  const keys = await run(`${toolsBin}/rathole`, ["--genkey"]);
  const [privateKey, publicKey] = [...keys.matchAll(/key:\s*\n?\s*(\S+)/gi)].map((m) => m[1]);
  if (!privateKey || !publicKey) throw new Error(`cannot read rathole --genkey output: ${keys}`);
  const dir = await Deno.makeTempDir({ prefix: "bench-rathole-" });
  const controlPort = unusedPort();
  const remotePort = unusedPort();
  await Deno.writeTextFile(
    `${dir}/server.toml`,
    [
      `[server]`,
      `bind_addr = "127.0.0.1:${controlPort}"`,
      `[server.transport]`,
      `type = "noise"`,
      `[server.transport.noise]`,
      `local_private_key = "${privateKey}"`,
      `[server.services.origin]`,
      `token = "bench"`,
      `bind_addr = "127.0.0.1:${remotePort}"`,
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${dir}/client.toml`,
    [
      `[client]`,
      `remote_addr = "127.0.0.1:${controlPort}"`,
      `[client.transport]`,
      `type = "noise"`,
      `[client.transport.noise]`,
      `remote_public_key = "${publicKey}"`,
      `[client.services.origin]`,
      `token = "bench"`,
      `local_addr = "127.0.0.1:${originPort}"`,
      "",
    ].join("\n"),
  );
  await spawn(`${toolsBin}/rathole`, ["--server", `${dir}/server.toml`]);
  await spawn(`${toolsBin}/rathole`, ["--client", `${dir}/client.toml`]);
  const target = { host: "127.0.0.1", port: remotePort };
  await waitReady(target, "rathole");
  return target;
}

const cleanups: (() => Promise<void>)[] = [];

// ---------------------------------------------------------------------------------------------
// Reporting.

interface Measured {
  downloadMiBps: number;
  uploadMiBps: number;
  p50Ms1: number;
  p99Ms1: number;
  p50Ms64: number;
  p99Ms64: number;
}

type Figure = keyof Measured;
const FIGURES: Figure[] = [
  "downloadMiBps",
  "uploadMiBps",
  "p50Ms1",
  "p99Ms1",
  "p50Ms64",
  "p99Ms64",
];

interface PathResult extends Partial<Measured> {
  name: string;
  note?: string;
  skipped?: string;
  /** Each figure divided by direct TCP's (throughput: higher is better; latency: lower is). */
  ratios?: Partial<Record<Figure, number>>;
}

async function measure(target: Target, bytes: number): Promise<Measured> {
  const downloadMiBps = await download(target, bytes);
  const uploadMiBps = await upload(target, bytes);
  const one = await latency(target, 1, 2000);
  const many = await latency(target, 64, 50);
  return {
    downloadMiBps,
    uploadMiBps,
    p50Ms1: one.p50,
    p99Ms1: one.p99,
    p50Ms64: many.p50,
    p99Ms64: many.p99,
  };
}

/** Throughput with the inspector on divided by without it, when both were measured. */
function inspectorCost(
  results: PathResult[],
): { downloadMiBps: number; uploadMiBps: number } | undefined {
  const off = results.find((r) => r.name === "datumctl tunnel" && !r.skipped);
  const on = results.find((r) => r.name === "datumctl tunnel + inspector" && !r.skipped);
  if (!off || !on) return undefined;
  return {
    downloadMiBps: round(on.downloadMiBps! / off.downloadMiBps!, 3),
    uploadMiBps: round(on.uploadMiBps! / off.uploadMiBps!, 3),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * What the ratios to direct TCP can and cannot say on one machine (measured on two cores; the
 * figures behind it are in engine/README.md, "Throughput on loopback").
 */
const READING_RATIOS = [
  "reading the ratios: direct TCP is two processes on a 64 KiB-MTU loopback; each tunnel adds its two",
  "ends as busy processes, two more loopback TCP hops and (all but bore) encryption on the same cores,",
  "so its ratios measure CPU per byte, not the network (bore, unencrypted, shows the hops alone).",
  "iroh 1.0.2 sends QUIC datagrams of at most 1472 bytes (noq's default max_udp_payload_size, which",
  "iroh does not let callers raise): per-packet work caps raw iroh QUIC well below direct TCP here;",
  "`cargo run --release --example quic_ceiling` in engine/ measures that ceiling without HTTP or JS.",
];

function table(results: PathResult[], mib: number): string {
  const headers = [
    "path",
    "download MiB/s",
    "upload MiB/s",
    "p50 ms @1",
    "p99 ms @1",
    "p50 ms @64",
    "p99 ms @64",
  ];
  const rows = results.map((r) => {
    if (r.skipped) return [r.name, `skipped: ${r.skipped}`];
    return [
      r.name,
      ...FIGURES.map((f) => {
        const value = r[f]!;
        const text = f.endsWith("MiBps") ? value.toFixed(0) : value.toFixed(3);
        const ratio = r.ratios?.[f];
        return r.name === "direct TCP" || ratio === undefined
          ? text
          : `${text} (${ratio.toFixed(2)}×)`;
      }),
    ];
  });
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.filter((r) => r.length > 2).map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.length === 2 && cells[1].startsWith("skipped")
      ? `${cells[0].padEnd(widths[0])}  ${cells[1]}`
      : cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const notes = results.filter((r) => r.note).map((r) => `  ${r.name}: ${r.note}`);
  return [
    `Tunnel benchmark on loopback: ${mib} MiB each way on one connection; latency of a 64-byte GET`,
    `(keep-alive) at 1 connection (2000 requests) and 64 connections (50 each). Ratios are to direct TCP.`,
    "",
    line(headers),
    ...rows.map(line),
    ...(notes.length ? ["", "notes:", ...notes] : []),
    "",
    ...READING_RATIOS,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

async function main() {
  const role = flag("--role");
  if (role === "origin") return await serveOrigin();
  if (role === "agent") {
    return await serveAgent(Number(flag("--origin-port")), Deno.args.includes("--inspect"));
  }

  const json = Deno.args.includes("--json");
  const mib = Number(flag("--mib") ?? 1024);
  const only = flag("--only")?.split(",");
  const bytes = mib * MiB;
  const paths: PathSetup[] = [
    { name: "direct TCP", start: (port: number) => Promise.resolve({ host: "127.0.0.1", port }) },
    {
      name: "datumctl tunnel",
      note: "gateway (bench process) + agent (own process) over iroh QUIC, relays disabled",
      start: startDatumctl,
    },
    {
      name: "datumctl tunnel + inspector",
      note: "the same, the request inspector on in the agent (64 KiB body prefixes, last 500)",
      start: (port: number) => startDatumctl(port, true),
    },
    { name: "frp (TLS)", note: `frp ${FRP_VERSION}, tcp proxy, TLS + yamux`, start: startFrp },
    { name: "bore", note: `bore-cli ${BORE_VERSION}, plain TCP, no encryption`, start: startBore },
    {
      name: "rathole (Noise)",
      note: `rathole ${RATHOLE_VERSION}, Noise transport`,
      start: startRathole,
    },
  ].filter((p) => !only || p.name === "direct TCP" || only.some((o) => p.name.startsWith(o)));

  const { line } = await spawn(Deno.execPath(), [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--role",
    "origin",
  ], { readyLine: true });
  const originPort = (JSON.parse(line!) as { port: number }).port;

  const results: PathResult[] = [];
  try {
    for (const path of paths) {
      if (!json) console.error(`measuring ${path.name}…`);
      let target: Target;
      try {
        target = await path.start(originPort);
      } catch (err) {
        results.push({
          name: path.name,
          skipped: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      results.push({ name: path.name, note: path.note, ...await measure(target, bytes) });
    }
  } finally {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
    await stopChildren();
  }

  const direct = results[0];
  for (const r of results) {
    if (r.skipped) continue;
    r.ratios = Object.fromEntries(FIGURES.map((f) => [f, round(r[f]! / direct[f]!, 3)]));
    for (const f of FIGURES) r[f] = round(r[f]!, f.endsWith("MiBps") ? 1 : 3);
  }
  const inspector = inspectorCost(results);
  if (json) {
    console.log(JSON.stringify(
      {
        benchmark: "tunnel",
        loopback: true,
        mibEachWay: mib,
        cpus: navigator.hardwareConcurrency,
        paths: results,
        ...(inspector ? { inspectorOnOff: inspector } : {}),
      },
      null,
      2,
    ));
  } else {
    console.log(table(results, mib));
    if (inspector) {
      console.log(
        `\ninspector on / off: download ${inspector.downloadMiBps.toFixed(2)}×, upload ${
          inspector.uploadMiBps.toFixed(2)
        }× (1.00 = no cost; the budget is 0.90, loopback figures vary by ±10% between runs)`,
      );
    }
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    await stopChildren();
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
