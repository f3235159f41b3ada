/**
 * `api proxy`: a local HTTP endpoint that forwards to a Datum control plane with the login's
 * bearer, so any HTTP client or Kubernetes SDK can use a datumctl login without handling tokens.
 *
 * The proxy binds 127.0.0.1 only, drops the inbound `Authorization` and injects a fresh bearer,
 * streams bodies both ways without buffering (watch, SSE), answers its own failures with a 502
 * `Status` flagged `X-Datum-Proxy-Error: true` and reports one access-log line per request through
 * a callback (lib never prints).
 *
 * It holds the user's token, so it must not be a confused deputy for web pages in the user's
 * browser. It refuses (403) requests whose `Host` is not local (DNS rebinding), whose `Origin` is
 * not the proxy's own or whose `Sec-Fetch-Site` says `cross-site`/`same-site` (a page on another
 * site); refuses (415) POST/PUT/PATCH bodies that are not JSON or YAML, the only types a page
 * can send without a CORS preflight being text/plain and forms; and refuses (400) paths that
 * URL normalisation would turn into another resource (`.`/`..` in any spelling, `%2F`, `\`).
 */
import type { AuthContext } from "../auth/token-source.ts";
import { USER_AGENT } from "../api/client.ts";
import { apiBaseUrl, requestPathProblem } from "../api/urls.ts";

/** Options of {@link startApiProxy}. */
export interface ApiProxyOptions {
  auth: AuthContext;
  /** Where requests go: the API root or one control-plane root (scheme, no trailing slash). */
  upstream: string;
  /** Local port; 0 picks a free one. */
  port?: number;
  /** Receives `HH:MM:SS METHOD PATH STATUS DURATION SIZE` once each response has ended. */
  onAccess?: (line: string) => void;
  /** Time allowed to connect and get response headers from upstream (default 30 s). */
  headersTimeoutMs?: number;
  /** After a failed token refresh, answer 502 without retrying for this long (default 5 s). */
  refreshCooldownMs?: number;
}

/** A running proxy. */
export interface ApiProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops accepting and waits up to `graceMs` for requests in flight (then cuts them). */
  close(graceMs?: number): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** Request headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "authorization",
  "content-length",
]);

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

function hostIsLocal(host: string | null): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return LOCAL_HOSTS.has(name.toLowerCase());
}

/** Body types of Kubernetes writes: JSON, YAML and the patch types (not text/plain or forms). */
const WRITE_CONTENT_TYPES = new Set([
  "application/json",
  "application/yaml",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/json-patch+json",
  "application/apply-patch+yaml",
]);

/** The media type of a Content-Type header, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/** Why a browser page on another site may have sent this request, or `undefined`. */
function crossSiteReason(request: Request): string | undefined {
  const fetchSite = request.headers.get("sec-fetch-site")?.toLowerCase();
  if (fetchSite === "cross-site" || fetchSite === "same-site") {
    return `the browser marked it Sec-Fetch-Site: ${fetchSite}`;
  }
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  // The proxy's own origin is the only one allowed: scheme http and exactly the Host asked for.
  if (origin.toLowerCase() !== `http://${request.headers.get("host") ?? ""}`.toLowerCase()) {
    return `it came from the web page origin ${JSON.stringify(origin.slice(0, 100))}`;
  }
  return undefined;
}

/** The path of a request exactly as sent, before a URL parser normalises it. */
function rawPath(requestUrl: string): string {
  const afterScheme = requestUrl.indexOf("://");
  const slash = requestUrl.indexOf("/", afterScheme >= 0 ? afterScheme + 3 : 0);
  return slash >= 0 ? requestUrl.slice(slash) : "/";
}

function statusResponse(
  code: number,
  reason: string,
  message: string,
  proxyError: boolean,
): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (proxyError) headers.set("x-datum-proxy-error", "true");
  const body = { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message };
  return new Response(JSON.stringify(body), { status: code, headers });
}

function clock(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)}MiB`;
}

function errorText(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "no answer in time";
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^error sending request for url \([^)]*\):\s*/i, "").split("\n")[0];
}

/** Starts the proxy; resolves once it is listening. */
export function startApiProxy(options: ApiProxyOptions): Promise<ApiProxy> {
  const upstream = new URL(apiBaseUrl(options.upstream));
  const upstreamPath = upstream.pathname.replace(/\/+$/, "");
  const headersTimeout = options.headersTimeoutMs ?? 30_000;
  const cooldownMs = options.refreshCooldownMs ?? 5_000;
  let refreshFailure: { at: number; message: string } | undefined;
  const inflight = new Set<AbortController>();

  async function bearer(): Promise<string> {
    if (refreshFailure && Date.now() - refreshFailure.at < cooldownMs) {
      throw new Error(refreshFailure.message);
    }
    try {
      const token = await options.auth.tokens.accessToken();
      refreshFailure = undefined;
      return token;
    } catch (err) {
      refreshFailure = { at: Date.now(), message: errorText(err) };
      throw err;
    }
  }

  function logWhenDone(
    started: Date,
    startedPerf: number,
    method: string,
    path: string,
    response: Response,
  ): Response {
    const log = options.onAccess;
    if (!log) return response;
    const line = (bytes: number) =>
      `${clock(started)} ${method} ${path} ${response.status} ${
        duration(performance.now() - startedPerf)
      } ${size(bytes)}`;
    if (!response.body) {
      log(line(0));
      return response;
    }
    let bytes = 0;
    let logged = false;
    const finish = () => {
      if (!logged) {
        logged = true;
        log(line(bytes));
      }
    };
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
        flush: finish,
        cancel: finish,
      }),
    );
    return new Response(counted, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  async function forward(request: Request, completed: Promise<void>): Promise<Response> {
    if (!hostIsLocal(request.headers.get("host"))) {
      return statusResponse(
        403,
        "Forbidden",
        "the datumctl API proxy only answers requests addressed to 127.0.0.1 or localhost",
        true,
      );
    }
    const crossSite = crossSiteReason(request);
    if (crossSite) {
      return statusResponse(
        403,
        "Forbidden",
        `the datumctl API proxy refuses requests from web pages on other sites: ${crossSite}`,
        true,
      );
    }
    const pathProblem = requestPathProblem(rawPath(request.url));
    if (pathProblem) {
      return statusResponse(
        400,
        "BadRequest",
        `the datumctl API proxy refuses a path with ${pathProblem}: names are data, not paths`,
        true,
      );
    }
    const hasBody = request.body !== null && request.headers.get("content-length") !== "0";
    if (
      ["POST", "PUT", "PATCH"].includes(request.method) && hasBody &&
      !WRITE_CONTENT_TYPES.has(mediaType(request.headers.get("content-type")))
    ) {
      return statusResponse(
        415,
        "UnsupportedMediaType",
        `the datumctl API proxy only forwards JSON or YAML write bodies, not ${
          JSON.stringify(mediaType(request.headers.get("content-type")) || "(none)")
        }`,
        true,
      );
    }
    let token: string;
    try {
      token = await bearer();
    } catch (err) {
      return statusResponse(
        502,
        "ProxyAuthenticationFailed",
        `could not get an access token: ${
          errorText(err)
        }; run 'datumctl login' and restart the proxy`,
        true,
      );
    }
    const incoming = new URL(request.url);
    const target = new URL(upstream.origin);
    target.pathname = `${upstreamPath}${incoming.pathname}`;
    target.search = incoming.search;

    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (!HOP_BY_HOP.has(name.toLowerCase())) headers.set(name, value);
    }
    headers.set("authorization", `Bearer ${token}`);
    if (!headers.has("user-agent")) headers.set("user-agent", USER_AGENT);
    // fetch would transparently decompress but keep Content-Encoding, corrupting the relay.
    headers.set("accept-encoding", "identity");

    const controller = new AbortController();
    inflight.add(controller);
    // Once the exchange is over (delivered, or the client went away) the upstream request is
    // finished with; aborting a completed fetch is a no-op.
    completed.finally(() => {
      controller.abort(new DOMException("exchange over", "AbortError"));
      inflight.delete(controller);
    }).catch(() => {});
    const timer = setTimeout(
      () => controller.abort(new DOMException("timed out", "TimeoutError")),
      headersTimeout,
    );
    try {
      const sendBody = request.body !== null && !["GET", "HEAD"].includes(request.method);
      const answer = await fetch(target, {
        method: request.method,
        headers,
        body: sendBody ? request.body : undefined,
        redirect: "manual",
        signal: controller.signal,
      });
      clearTimeout(timer);
      const out = new Headers();
      for (const [name, value] of answer.headers) {
        if (!HOP_BY_HOP.has(name.toLowerCase())) out.set(name, value);
      }
      // The body is relayed chunk by chunk as it arrives (watch, SSE): nothing waits for its end.
      const body = answer.body;
      return new Response(body, {
        status: answer.status,
        statusText: answer.statusText,
        headers: out,
      });
    } catch (err) {
      clearTimeout(timer);
      return statusResponse(
        502,
        "ProxyUpstreamError",
        `upstream ${upstream.host} failed: ${errorText(err)}`,
        true,
      );
    }
  }

  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: "127.0.0.1",
        port: options.port ?? 0,
        onListen: () => {},
        onError: (err) => statusResponse(502, "ProxyUpstreamError", errorText(err), true),
      }, async (request, info) => {
        const started = new Date();
        const startedPerf = performance.now();
        const url = new URL(request.url);
        const response = await forward(request, info.completed);
        return logWhenDone(
          started,
          startedPerf,
          request.method,
          `${url.pathname}${url.search}`,
          response,
        );
      });
    } catch (err) {
      reject(err);
      return;
    }
    const port = server.addr.port;
    resolve({
      url: `http://127.0.0.1:${port}`,
      port,
      finished: server.finished,
      async close(graceMs = 2000) {
        const shutdown = server.shutdown();
        const timer = setTimeout(() => {
          for (const c of inflight) c.abort(new DOMException("proxy stopping", "AbortError"));
        }, graceMs);
        await shutdown;
        clearTimeout(timer);
      },
    });
  });
}
