/**
 * The request inspector's HTTP server: the page (lib/tunnel/inspector/page.ts), a live list
 * over Server-Sent Events and the JSON API under `/api/requests` (list, one, replay), all read
 * from the engine's capture (payload bytes stay in the engine until a request is opened).
 *
 * Safe by construction:
 * - it binds a loopback address only (see address.ts);
 * - a request whose `Host` is not the inspector's own address is refused (DNS rebinding: a
 *   hostile name resolving to 127.0.0.1 still carries its own name), as is one whose `Origin`
 *   (or `Sec-Fetch-Site`) says another site sent it;
 * - everything but the page's static script and style needs the random per-session token, given
 *   in the printed URL (`/?token=…`, then kept as an HttpOnly, SameSite=Strict cookie) or as
 *   `Authorization: Bearer <token>`;
 * - a replay is a POST with a JSON body, which a cross-site form cannot send.
 * Nothing is written to disk here.
 */
import { Buffer } from "node:buffer";
import { CliError, ExitCode } from "../../core/errors.ts";
import type { InspectSettings } from "./address.ts";
import type { CapturedRequest, CapturedSummary, ReplayEdits, RequestCapture } from "./capture.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./page.ts";

/** A running inspector. */
export interface Inspector {
  /** `http://127.0.0.1:4040` (no token). */
  readonly address: string;
  /** The address with the session token: what the user opens. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  /** Stops serving and ends every live list. */
  close(): Promise<void>;
}

/** How far past the default port the inspector looks for a free one. */
const PORT_ATTEMPTS = 20;
/** How often live lists look for new or changed requests. */
const POLL_MS = 200;
/** Largest replay body accepted from the page or a script. */
const MAX_REPLAY_BODY = 16 * 1024 * 1024;

/** A body as the API returns it: text when it is UTF-8, else base64. */
export interface BodyView {
  size: number;
  truncated: boolean;
  /** `text` (UTF-8, `text` set) or `binary` (`base64` set). */
  encoding: "text" | "binary";
  text?: string;
  base64?: string;
  /** The text parses as JSON (the page pretty-prints it). */
  json: boolean;
}

function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The API's view of a captured body. */
export function describeBody(bytes: Uint8Array, truncated: boolean, total: number): BodyView {
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    // A prefix cut inside a multi-byte character is still text: drop the partial character.
    if (truncated) {
      for (let cut = 1; cut <= 3 && text === undefined; cut++) {
        try {
          text = utf8.decode(bytes.subarray(0, bytes.length - cut));
        } catch { /* try shorter */ }
      }
    }
  }
  // deno-lint-ignore no-control-regex -- binary bodies are told apart by their control bytes
  if (text !== undefined && !/[\x00-\x08\x0e-\x1f]/.test(text)) {
    let json = false;
    if (!truncated && text.trim() !== "") {
      try {
        JSON.parse(text);
        json = true;
      } catch { /* not JSON */ }
    }
    return { size: total, truncated, encoding: "text", text, json };
  }
  return { size: total, truncated, encoding: "binary", base64: encodeBase64(bytes), json: false };
}

function summaryView(s: CapturedSummary) {
  return {
    id: s.id,
    seq: s.seq,
    kind: s.kind,
    time: new Date(s.timeMs).toISOString(),
    peer: s.peer,
    method: s.method,
    path: s.path,
    status: s.status ?? null,
    duration_ms: s.durationMs === undefined || s.durationMs === null
      ? null
      : Math.round(s.durationMs * 10) / 10,
    total_ms: s.totalMs === undefined || s.totalMs === null
      ? null
      : Math.round(s.totalMs * 10) / 10,
    request_bytes: s.requestBytes,
    response_bytes: s.responseBytes,
    streamed: s.streamed,
    done: s.done,
    replay_of: s.replayOf ?? null,
    error: s.error ?? null,
    content_type: s.contentType ?? null,
  };
}

function detailView(r: CapturedRequest) {
  return {
    ...summaryView(r.summary),
    target: r.target ?? null,
    request: {
      headers: r.requestHeaders,
      body: describeBody(r.requestBody, r.requestBodyTruncated, r.summary.requestBytes),
    },
    response: {
      headers: r.responseHeaders,
      body: describeBody(r.responseBody, r.responseBodyTruncated, r.summary.responseBytes),
    },
  };
}

function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return encodeBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function respond(body: BodyInit | null, status: number, headers: Record<string, string> = {}) {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, ...headers } });
}

function json(value: unknown, status = 200): Response {
  return respond(JSON.stringify(value), status, {
    "content-type": "application/json; charset=utf-8",
  });
}

function problem(status: number, message: string): Response {
  return json({ error: message }, status);
}

/** Reads a replay request's JSON body into edits (or a message saying what is wrong). */
function parseReplay(value: unknown): ReplayEdits | string {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) return "expected a JSON object";
  const raw = value as Record<string, unknown>;
  const edits: ReplayEdits = {};
  if (raw.method !== undefined) {
    if (typeof raw.method !== "string" || !/^[A-Za-z]{1,20}$/.test(raw.method)) {
      return "method must be an HTTP method name";
    }
    edits.method = raw.method.toUpperCase();
  }
  if (raw.path !== undefined) {
    if (typeof raw.path !== "string" || !raw.path.startsWith("/")) {
      return "path must start with /";
    }
    edits.path = raw.path;
  }
  if (raw.headers !== undefined) {
    if (!Array.isArray(raw.headers)) return "headers must be a list of {name, value}";
    edits.headers = [];
    for (const h of raw.headers) {
      const pair = Array.isArray(h) ? { name: h[0], value: h[1] } : h as Record<string, unknown>;
      if (typeof pair?.name !== "string" || typeof pair?.value !== "string") {
        return "each header needs a string name and value";
      }
      edits.headers.push({ name: pair.name, value: pair.value });
    }
  }
  if (raw.body !== undefined && raw.body_base64 !== undefined) {
    return "give body or body_base64, not both";
  }
  if (raw.body !== undefined) {
    if (typeof raw.body !== "string") return "body must be a string";
    edits.body = new TextEncoder().encode(raw.body);
  }
  if (raw.body_base64 !== undefined) {
    if (typeof raw.body_base64 !== "string") return "body_base64 must be a string";
    try {
      edits.body = Uint8Array.from(atob(raw.body_base64), (c) => c.charCodeAt(0));
    } catch {
      return "body_base64 is not base64";
    }
  }
  if (edits.body && edits.body.length > MAX_REPLAY_BODY) return "the body is too large";
  return edits;
}

function bind(
  settings: InspectSettings,
  handler: Deno.ServeHandler,
  signal: AbortSignal,
): Deno.HttpServer<Deno.NetAddr> {
  const attempts = settings.portIsDefault ? PORT_ATTEMPTS : 1;
  for (let i = 0; i < attempts; i++) {
    const port = settings.port + i;
    try {
      return Deno.serve({ hostname: settings.hostname, port, signal, onListen() {} }, handler);
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse) || i === attempts - 1) {
        const where = settings.portIsDefault
          ? `ports ${settings.port}-${settings.port + attempts - 1}`
          : `port ${settings.port}`;
        throw new CliError(
          "INSPECTOR_PORT_TAKEN",
          `the request inspector could not listen on ${settings.hostname} ${where}: ${
            (err as Error).message
          }`,
          {
            hint: "Give it another port: --inspect 4100 (or --inspect 127.0.0.1:4100).",
            exitCode: ExitCode.unavailable,
            cause: err,
          },
        );
      }
    }
  }
  throw new Error("unreachable");
}

/** Starts the inspector for `capture` (which it enables with `settings`). */
export function startInspector(capture: RequestCapture, settings: InspectSettings): Inspector {
  capture.enable({
    bodyLimit: settings.bodyLimit,
    capacity: settings.capacity,
    showSecrets: settings.showSecrets,
  });
  const token = randomToken();
  const stop = new AbortController();
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let port = 0;
  const hostLiteral = settings.hostname.includes(":")
    ? `[${settings.hostname}]`
    : settings.hostname;
  const cookieName = () => `datumctl_inspector_${port}`;
  const allowedHosts = () =>
    new Set([`${hostLiteral}:${port}`, `localhost:${port}`].map((h) => h.toLowerCase()));
  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`));

  const authorized = (req: Request): boolean => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (bearer && sameToken(bearer, token)) return true;
    const cookie = req.headers.get("cookie") ?? "";
    for (const part of cookie.split(";")) {
      const [name, ...rest] = part.trim().split("=");
      if (name === cookieName() && sameToken(rest.join("="), token)) return true;
    }
    return false;
  };

  const encoder = new TextEncoder();
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      streams.delete(controller);
    }
  };

  // One poll of the engine feeds every live list.
  let seq = 0;
  let lastKeptFrom = 0;
  const pollOnce = () => {
    const changes = capture.changes(seq);
    seq = changes.seq;
    const lines: string[] = [];
    for (const s of changes.requests) {
      lines.push(`event: request\ndata: ${JSON.stringify(summaryView(s))}\n\n`);
    }
    if (changes.keptFrom !== lastKeptFrom) {
      lastKeptFrom = changes.keptFrom;
      lines.push(`event: kept\ndata: ${JSON.stringify({ from: changes.keptFrom })}\n\n`);
    }
    if (lines.length === 0) return;
    const text = lines.join("");
    for (const c of [...streams]) send(c, text);
  };
  const poller = setInterval(() => {
    if (streams.size > 0) pollOnce();
  }, POLL_MS);
  Deno.unrefTimer(poller);
  const keepAlive = setInterval(() => {
    for (const c of [...streams]) send(c, ": keep-alive\n\n");
  }, 15_000);
  Deno.unrefTimer(keepAlive);

  const liveList = (): Response => {
    let self: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        self = controller;
        // Bring the other lists up to `seq`, then send this one everything up to `seq`: the
        // shared poll delivers what changes after that to all of them alike.
        pollOnce();
        const text = capture.changes(0).requests
          .filter((s) => s.seq <= seq)
          .map((s) => `event: request\ndata: ${JSON.stringify(summaryView(s))}\n\n`)
          .join("");
        send(controller, `retry: 2000\n\n${text}`);
        streams.add(controller);
      },
      cancel() {
        if (self) streams.delete(self);
      },
    });
    return respond(body, 200, {
      "content-type": "text/event-stream; charset=utf-8",
      "x-accel-buffering": "no",
    });
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const host = (req.headers.get("host") ?? "").toLowerCase();
    if (!allowedHosts().has(host)) {
      return problem(403, `the inspector answers to ${hostLiteral}:${port} only`);
    }
    const origin = req.headers.get("origin");
    if (origin !== null && !allowedOrigins().has(origin.toLowerCase())) {
      return problem(403, "requests from other sites are refused");
    }
    const fetchSite = req.headers.get("sec-fetch-site");
    if (fetchSite !== null && fetchSite !== "same-origin" && fetchSite !== "none") {
      return problem(403, "requests from other sites are refused");
    }

    // The page's script and style hold no data; everything else needs the token.
    if (req.method === "GET" && url.pathname === "/app.js") {
      return respond(PAGE_JS, 200, { "content-type": "text/javascript; charset=utf-8" });
    }
    if (req.method === "GET" && url.pathname === "/app.css") {
      return respond(PAGE_CSS, 200, { "content-type": "text/css; charset=utf-8" });
    }
    const given = url.searchParams.get("token");
    if (req.method === "GET" && url.pathname === "/" && given !== null) {
      if (!sameToken(given, token)) return problem(401, "this inspector token is not valid");
      // The cookie carries the token from now on; the address bar forgets it.
      return respond(null, 303, {
        location: "/",
        "set-cookie": `${cookieName()}=${token}; Path=/; HttpOnly; SameSite=Strict`,
      });
    }
    if (!authorized(req)) {
      if (url.pathname.startsWith("/api/")) {
        return problem(401, "the inspector token is missing or wrong");
      }
      return respond(
        "Open the inspector with the URL that datumctl printed (it carries this session's token).\n",
        401,
        { "content-type": "text/plain; charset=utf-8" },
      );
    }
    if (req.method === "GET" && url.pathname === "/") {
      return respond(PAGE_HTML, 200, { "content-type": "text/html; charset=utf-8" });
    }
    if (req.method === "GET" && url.pathname === "/api/events") return liveList();
    if (url.pathname === "/api/requests") {
      if (req.method !== "GET") return problem(405, "use GET");
      const since = Number(url.searchParams.get("since") ?? "0");
      if (!Number.isInteger(since) || since < 0) {
        return problem(400, "since must be a whole number");
      }
      const changes = capture.changes(since);
      return json({
        requests: changes.requests.sort((a, b) => a.id - b.id).map(summaryView),
        seq: changes.seq,
      });
    }
    const one = /^\/api\/requests\/(\d+)(\/replay)?$/.exec(url.pathname);
    if (one) {
      const id = Number(one[1]);
      if (one[2]) {
        if (req.method !== "POST") return problem(405, "use POST");
        if (!(req.headers.get("content-type") ?? "").startsWith("application/json")) {
          return problem(415, "send the replay as application/json");
        }
        let body: unknown;
        try {
          const text = await req.text();
          body = text.trim() === "" ? {} : JSON.parse(text);
        } catch {
          return problem(400, "the body is not JSON");
        }
        const edits = parseReplay(body);
        if (typeof edits === "string") return problem(400, edits);
        if (!capture.get(id)) return problem(404, `request ${id} is not kept (any more)`);
        try {
          const replayed = await capture.replay(id, edits);
          const record = capture.get(replayed);
          return json(record ? detailView(record) : { id: replayed }, 201);
        } catch (err) {
          return problem(422, (err as Error).message);
        }
      }
      if (req.method !== "GET") return problem(405, "use GET");
      const record = capture.get(id);
      if (!record) return problem(404, `request ${id} is not kept (any more)`);
      return json(detailView(record));
    }
    return problem(404, "no such page");
  };

  const server = bind(settings, handler, stop.signal);
  port = server.addr.port;
  const address = `http://${hostLiteral}:${port}`;
  return {
    address,
    url: `${address}/?token=${token}`,
    token,
    port,
    close: async () => {
      clearInterval(poller);
      clearInterval(keepAlive);
      for (const c of [...streams]) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      streams.clear();
      stop.abort();
      await server.finished.catch(() => {});
    },
  };
}
