/**
 * `--debug` / `DATUMCTL_DEBUG=1`: every HTTP request datumctl makes (API, token endpoint,
 * discovery, tunnels' control calls) traced as it goes, with its timing, and secrets redacted.
 *
 * It wraps a `fetch`; URLs and headers are redacted, and bodies are never traced: token requests
 * and responses carry secrets.
 */

const SECRET_PARAM = /token|code|secret|password|assertion|signature|sig$|key|verifier/i;
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$/i;

/** Whether `DATUMCTL_DEBUG` asks for tracing (`1`, `true`, `yes`, `on`). */
export function debugEnabled(value: string | undefined): boolean {
  return !!value && /^(1|true|yes|on)$/i.test(value.trim());
}

/** A URL with the values of secret-looking query parameters (and any userinfo) replaced. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.username || url.password) {
    url.username = "REDACTED";
    url.password = "";
  }
  for (const [name] of [...url.searchParams]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, "REDACTED");
  }
  return url.toString();
}

/** Header lines to show: credentials replaced (the scheme of an Authorization header kept). */
export function redactHeaders(headers: Headers): string[] {
  const lines: string[] = [];
  for (const [name, value] of headers) {
    if (SECRET_HEADER.test(name)) {
      const scheme = value.match(/^(\w+)\s/)?.[1];
      lines.push(`${name}: ${scheme ? `${scheme} ` : ""}REDACTED`);
    } else lines.push(`${name}: ${value}`);
  }
  return lines;
}

function methodAndUrl(input: RequestInfo | URL, init?: RequestInit): [string, string] {
  if (input instanceof Request) return [init?.method ?? input.method, input.url];
  return [(init?.method ?? "GET").toUpperCase(), input instanceof URL ? input.href : input];
}

/**
 * A `fetch` that reports each request to `write` (one line each: the request, its headers, the
 * answer with the time to its headers) and otherwise behaves like `inner`.
 */
export function tracingFetch(
  inner: typeof fetch,
  write: (line: string) => void,
  now: () => number = () => performance.now(),
): typeof fetch {
  let counter = 0;
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    const id = ++counter;
    const [method, url] = methodAndUrl(input, init);
    const shown = redactUrl(url);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [k, v] of new Headers(init?.headers)) headers.set(k, v);
    write(`debug: [${id}] → ${method} ${shown}`);
    for (const line of redactHeaders(headers)) write(`debug: [${id}]   ${line}`);
    const started = now();
    try {
      const response = await inner(input, init);
      const ms = Math.round(now() - started);
      write(
        `debug: [${id}] ← ${response.status} ${response.statusText} in ${ms} ms` +
          ` (${response.headers.get("content-type") ?? "no body type"})`,
      );
      return response;
    } catch (err) {
      const ms = Math.round(now() - started);
      const why = err instanceof Error ? err.message : String(err);
      write(`debug: [${id}] ✗ failed after ${ms} ms: ${why}`);
      throw err;
    }
  };
}
