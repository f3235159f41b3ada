/**
 * Helpers for the request inspector tests: an origin that records what reached it, a visitor's
 * request through the stack's gateway with any method, headers and body, a raw HTTP call that
 * can set `Host` and `Origin` (fetch cannot), and finding the inspector URL a listener printed.
 */
import { request } from "node:http";
import { Buffer } from "node:buffer";

/** One request the origin saw. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** An origin on 127.0.0.1 that records its requests. */
export interface RecordingOrigin {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** Size of `/big`'s body: more than the inspector keeps by default. */
export const BIG_BODY = 200 * 1024;

/**
 * Starts an origin: `/submit` answers JSON about the body it got, `/big` a 200 KiB text body,
 * `/binary` 256 bytes 0-255, anything else `hello from origin <path>`.
 */
export function startRecordingOrigin(): RecordingOrigin {
  const seen: SeenRequest[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = await req.text();
    seen.push({ method: req.method, path: url.pathname + url.search, headers: req.headers, body });
    if (url.pathname === "/submit") {
      return Response.json({ ok: true, received: body.length, method: req.method }, {
        headers: { "set-cookie": "session=origin-secret" },
      });
    }
    if (url.pathname === "/big") return new Response("x".repeat(BIG_BODY));
    if (url.pathname === "/binary") {
      return new Response(Uint8Array.from({ length: 256 }, (_, i) => i), {
        headers: { "content-type": "application/octet-stream" },
      });
    }
    return new Response(`hello from origin ${url.pathname}\n`);
  });
  return { port: server.addr.port, seen, close: () => server.shutdown() };
}

/** A raw answer. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one HTTP/1.1 request to `base` (`http://host:port`) with exactly these headers. */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port),
      path,
      method: options.method ?? "GET",
      headers: {
        ...(options.body !== undefined
          ? { "content-length": Buffer.byteLength(options.body) }
          : {}),
        ...options.headers,
      },
      timeout: 15_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A visitor's request to tunnel `hostname` through the gateway. */
export function visit(
  gateway: string,
  hostname: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return rawRequest(gateway, path, {
    ...options,
    headers: { host: hostname, ...options.headers },
  });
}

/** The inspector URL (`http://127.0.0.1:<port>/?token=…`) a listener printed on stderr. */
export function inspectorUrlFrom(stderr: string): URL | undefined {
  const match = /Request inspector: (http:\/\/\S+)/.exec(stderr);
  return match ? new URL(match[1]) : undefined;
}
