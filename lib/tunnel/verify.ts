/**
 * Connectivity probes behind "Verifying connectivity...": the local origin and the public URL,
 * where any status below 500 means reachable (a 4xx means the edge forwards).
 *
 * The public probe can be pointed at a local gateway (`DATUMCTL_TUNNEL_GATEWAY`, used with the
 * local stack): it then connects there and sends the tunnel's hostname as `Host`, as Datum's edge
 * would receive it.
 */
import { request as httpRequest } from "node:http";

/** The outcome of one probe. */
export interface ProbeResult {
  url: string;
  reachable: boolean;
  httpStatus?: number;
  error?: string;
}

const PROBE_TIMEOUT_MS = 5_000;

/** `https://<hostname>` for a tunnel hostname. */
export function publicUrl(hostname: string): string {
  return `https://${hostname}`;
}

function describeError(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "no answer within 5s";
  const e = err as Error & { cause?: unknown; code?: string };
  let text = e?.message ?? String(err);
  text = text.replace(/^error sending request for url \([^)]*\):\s*/i, "");
  if (e?.code && !text.includes(e.code)) text = `${e.code}: ${text}`;
  return text.split("\n")[0];
}

/** GETs the origin URL (normalized endpoint) once. */
export async function probeOrigin(url: string, signal?: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    await response.body?.cancel();
    return { url, reachable: response.status < 500, httpStatus: response.status };
  } catch (err) {
    return { url, reachable: false, error: describeError(err) };
  }
}

/**
 * GETs `https://<hostname>/` once, or, with `gateway` set (e.g. `http://127.0.0.1:8443`), the
 * same request sent to that gateway with `Host: <hostname>`.
 */
export async function probePublic(
  hostname: string,
  gateway: string | undefined,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const url = `${publicUrl(hostname)}/`;
  if (!gateway) {
    const result = await probeOrigin(url, signal);
    return result;
  }
  let target: URL;
  try {
    target = new URL(gateway);
  } catch {
    return { url, reachable: false, error: `DATUMCTL_TUNNEL_GATEWAY is not a URL: ${gateway}` };
  }
  return await new Promise<ProbeResult>((resolve) => {
    const req = httpRequest({
      host: target.hostname.replace(/^\[|\]$/g, ""),
      port: Number(target.port || 80),
      method: "GET",
      path: "/",
      headers: { host: hostname, "x-forwarded-proto": "https" },
      timeout: PROBE_TIMEOUT_MS,
    }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ url, reachable: status > 0 && status < 500, httpStatus: status });
    });
    const onAbort = () => req.destroy(new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("timeout", () => req.destroy(new Error("no answer within 5s")));
    req.on("error", (err) => resolve({ url, reachable: false, error: describeError(err) }));
    req.on("close", () => signal?.removeEventListener("abort", onAbort));
    req.end();
  });
}
