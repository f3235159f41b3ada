/**
 * A small Kubernetes REST client for the stack's own calls to the real API servers (controllers,
 * seeding, CRD installation): JSON requests with the controllers' token over the servers' TLS,
 * and line-by-line watch streams.
 */

/** A non-2xx answer, with the Status body when there was one. */
export class KubeRequestError extends Error {
  constructor(readonly code: number, readonly body: unknown, what: string) {
    super(
      `${what}: ${code} ${
        (body as { message?: string } | undefined)?.message ?? JSON.stringify(body)
      }`,
    );
  }
}

/** Requests against one API server base URL. */
export class KubeClient {
  constructor(
    readonly base: string,
    private token: string,
    private http: Deno.HttpClient,
  ) {}

  /** A raw request (path relative to the base). */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.token}`);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    return fetch(`${this.base}${path}`, { ...init, headers, client: this.http });
  }

  /** A JSON request; throws {@link KubeRequestError} on non-2xx. */
  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<T> {
    const res = await this.fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // a text body (404 page not found)
    }
    if (!res.ok) throw new KubeRequestError(res.status, parsed, `${method} ${path}`);
    return parsed as T;
  }

  /** Streams a watch's events until it ends or `signal` aborts. */
  async *watch(
    path: string,
    signal: AbortSignal,
  ): AsyncGenerator<{ type: string; object: Record<string, unknown> }> {
    const res = await this.fetch(path, { signal });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new KubeRequestError(res.status, text, `watch ${path}`);
    }
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield JSON.parse(line);
      }
    }
  }
}
