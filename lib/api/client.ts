/**
 * The HTTP client every control-plane call goes through.
 *
 * {@link ApiClient} wraps `fetch` with what Datum's API needs from every caller: the
 * `datumctl/<version>` User-Agent, a bearer from the login's {@link TokenSource}, one forced token
 * refresh and retry on 401, retries with backoff for transient failures (5xx such as Envoy's
 * `upstream connect error…` 503, 429, connection resets) on idempotent requests, and Kubernetes
 * `Status` bodies turned into one readable {@link ApiError}. On top sit small JSON helpers
 * (get/list/create/patch/apply/delete) and {@link ApiClient.watch}, an unbuffered async iterator
 * over a watch stream. Resource verbs, tunnels, MCP and the API proxy build on it. No answer
 * is buffered past {@link MAX_API_RESPONSE_BYTES} (one watch event included); error bodies are
 * read up to {@link ERROR_BODY_BYTES}.
 */
import { httpClientFor } from "../http/tls.ts";
import denoJson from "../../deno.json" with { type: "json" };
import type { AuthContext } from "../auth/token-source.ts";
import {
  ApiError,
  apiErrorFromBadBody,
  apiErrorFromNetwork,
  apiErrorFromResponse,
  isQuotaCheckTimeout,
  isTransientHttpStatus,
  type KubeStatus,
} from "./errors.ts";
import { apiBaseUrl, checkRequestPath } from "./urls.ts";
import {
  MAX_API_RESPONSE_BYTES,
  readLimitedText,
  readTruncatedText,
  ResponseTooLargeError,
} from "../http/capped-body.ts";

/** The User-Agent datumctl sends: `datumctl/<version>`. */
export const USER_AGENT = `datumctl/${denoJson.version}`;

/** How transient failures are retried. */
export interface RetryPolicy {
  /** Total attempts including the first (default 4). */
  attempts: number;
  /** Delay before the first retry; doubles each time, with jitter (default 250 ms). */
  initialDelayMs: number;
  /** Upper bound of one delay, also for a server's `Retry-After` (default 4 s). */
  maxDelayMs: number;
}

/** The default {@link RetryPolicy}: 4 attempts, 250 ms doubling, at most 4 s apart. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 250, maxDelayMs: 4000 };

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Whose requests these are; its token source supplies the bearer. */
  auth: AuthContext;
  /** A control-plane base URL from `urls.ts` (or the API base for platform-wide calls). */
  baseUrl: string;
  retry?: Partial<RetryPolicy>;
  /** Time allowed for response headers per attempt (default 60 s; streams included). */
  timeoutMs?: number;
}

/** Query parameters; `undefined` values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of one request. */
export interface RequestOptions {
  query?: Query;
  /** A plain value is sent as JSON; strings and bytes are sent as they are. */
  body?: unknown;
  /** Content-Type of the body (default `application/json`). */
  contentType?: string;
  headers?: Record<string, string>;
  /**
   * Retry transient failures although the method is POST or PATCH: the caller knows that
   * repeating the request is safe. GET, HEAD, PUT and DELETE always retry.
   */
  retry?: boolean;
  signal?: AbortSignal;
}

/** A Kubernetes list (`…List`) with its items. */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** One event of a watch stream. */
export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: T;
}

/** Options shared by the write helpers. */
export interface WriteOptions {
  /** Server-side dry run (`dryRun=All`): validated and defaulted, never stored. */
  dryRun?: boolean;
  /** `fieldManager` for managed fields (default: the server's). */
  fieldManager?: string;
  signal?: AbortSignal;
}

/** How much of an error answer is read for its message: 1 MiB. */
export const ERROR_BODY_BYTES = 1024 * 1024;

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * True when the request provably never reached the server (refused, no route, DNS), so repeating
 * it is safe whatever the method.
 */
function neverSent(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
  return /\(Connect\)|connection refused|dns error|failed to lookup|no route to host/i.test(text);
}

function encodeBody(body: unknown): BodyInit | undefined {
  if (body === undefined) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body as BodyInit;
  return JSON.stringify(body);
}

/** An authenticated client for one control plane. */
export class ApiClient {
  /** The control-plane base every relative path is resolved against. */
  readonly baseUrl: string;
  /** The login the requests are made as. */
  readonly auth: AuthContext;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  /** Trusts the login's extra CAs (`certificate-authority-data`, `SSL_CERT_FILE`). */
  readonly #http: Deno.HttpClient | undefined;

  constructor(options: ApiClientOptions) {
    this.baseUrl = apiBaseUrl(options.baseUrl);
    this.auth = options.auth;
    this.#http = httpClientFor(options.auth.caCertificates);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** The same login against another control plane (same retry and timeout settings). */
  withBase(baseUrl: string): ApiClient {
    return new ApiClient({
      auth: this.auth,
      baseUrl,
      retry: this.#retry,
      timeoutMs: this.#timeoutMs,
    });
  }

  /**
   * The absolute URL of `path` (relative to the base unless already absolute) with a query. A
   * path that URL normalisation would rewrite (`.`/`..` segments, encoded slashes) is refused
   * here, before `URL` can turn `…/httpproxies/.` into the collection.
   */
  url(path: string, query?: Query): string {
    checkRequestPath(path);
    const url = new URL(/^https?:\/\//i.test(path) ? path : `${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  /**
   * Sends a request and returns the successful (2xx) response with its body unread; anything
   * else throws an {@link ApiError}. 401 gets one forced token refresh; transient failures are
   * retried with backoff when the method is idempotent or `options.retry` is set. The
   * quota-check-timeout 403 is retried for every method: the server rejected the request before
   * acting on it.
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    method = method.toUpperCase();
    const url = this.url(path, options.query);
    const body = encodeBody(options.body);
    const mayRetry = IDEMPOTENT.has(method) || options.retry === true;
    let refreshed = false;
    let token = await this.auth.tokens.accessToken();

    for (let attempt = 1;; attempt++) {
      const last = attempt >= this.#retry.attempts;
      let response: Response;
      try {
        response = await this.#send(method, url, token, body, options);
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (!last && (mayRetry || neverSent(err))) {
          await sleep(this.#delay(attempt), options.signal);
          continue;
        }
        throw apiErrorFromNetwork(method, url, err);
      }
      if (response.ok) return response;

      if (response.status === 401 && !refreshed) {
        await response.body?.cancel();
        refreshed = true;
        token = await this.auth.tokens.accessToken({ forceRefresh: true });
        attempt--; // the refresh retry does not use up a transient-failure attempt
        continue;
      }
      const text = await readTruncatedText(response, ERROR_BODY_BYTES).catch(() => "");
      const quotaTimeout = response.status === 403 && isQuotaCheckTimeout(text);
      if (
        !last && (quotaTimeout || (mayRetry && isTransientHttpStatus(response.status)))
      ) {
        await sleep(this.#delay(attempt, response.headers.get("retry-after")), options.signal);
        continue;
      }
      const error = apiErrorFromResponse(method, url, response.status, response.statusText, text);
      throw response.status === 401 ? this.#rejectedCredential(error) : error;
    }
  }

  /** A 401 names the credential in force: `datumctl login` cannot fix a rejected env token. */
  #rejectedCredential(error: ApiError): ApiError {
    const hint = this.auth.kind === "DATUM_TOKEN"
      ? "The token in DATUM_TOKEN was rejected (expired, revoked or not a Datum token): set a " +
        "fresh one, or unset DATUM_TOKEN to use your stored login."
      : this.auth.kind === "DATUM_CREDENTIALS"
      ? "The service-account key in DATUM_CREDENTIALS was rejected: check the key file, or " +
        "unset DATUM_CREDENTIALS to use your stored login."
      : undefined;
    if (!hint) return error;
    return new ApiError(error.code, error.message, {
      httpStatus: error.httpStatus,
      reason: error.reason,
      status: error.status,
      hint,
      exitCode: error.exitCode,
      retryable: error.retryable,
    });
  }

  /**
   * Passes a request through with a fresh bearer and returns the server's answer whatever its
   * status (for the local API proxy, which must relay 401/403 and streams unchanged). The
   * caller's headers are kept except `Authorization`; on a 401 the token is refreshed once and
   * the request repeated when its body can be sent again. No other retries.
   */
  async forward(
    method: string,
    path: string,
    init: { headers?: Headers; body?: BodyInit | null; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const url = this.url(path);
    const headers = new Headers(init.headers);
    if (!headers.has("user-agent")) headers.set("user-agent", USER_AGENT);
    const replayable = init.body == null || typeof init.body === "string" ||
      init.body instanceof Uint8Array;
    const once = async (token: string) => {
      headers.set("authorization", `Bearer ${token}`);
      try {
        return await fetch(url, {
          method,
          headers,
          body: init.body ?? undefined,
          signal: init.signal,
          client: this.#http,
        });
      } catch (err) {
        if (init.signal?.aborted) throw err;
        throw apiErrorFromNetwork(method, url, err);
      }
    };
    const response = await once(await this.auth.tokens.accessToken());
    if (response.status !== 401 || !replayable) return response;
    await response.body?.cancel();
    return await once(await this.auth.tokens.accessToken({ forceRefresh: true }));
  }

  async #send(
    method: string,
    url: string,
    token: string,
    body: BodyInit | undefined,
    options: RequestOptions,
  ): Promise<Response> {
    const headers = new Headers({ accept: "application/json", ...options.headers });
    headers.set("user-agent", USER_AGENT);
    headers.set("authorization", `Bearer ${token}`);
    if (body !== undefined && !headers.has("content-type")) {
      headers.set("content-type", options.contentType ?? "application/json");
    }
    // The timer covers waiting for headers only, so long bodies and watch streams are not cut.
    // AbortSignal.timeout, not setTimeout: the global setTimeout is Node's, and its first use
    // loads Deno's Node timers (about 4 MiB and several ms of start-up; docs/performance.md).
    // The timeout's timer does not keep the process alive; after the headers nothing listens.
    const controller = new AbortController();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const onTimeout = () => controller.abort(new DOMException("timed out", "TimeoutError"));
    timeout.addEventListener("abort", onTimeout, { once: true });
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    try {
      return await fetch(url, { method, headers, body, signal, client: this.#http });
    } catch (err) {
      if (controller.signal.aborted && !options.signal?.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      timeout.removeEventListener("abort", onTimeout);
    }
  }

  #delay(attempt: number, retryAfter?: string | null): number {
    const { initialDelayMs, maxDelayMs } = this.#retry;
    const seconds = retryAfter ? Number(retryAfter) : NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxDelayMs);
    const base = Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs);
    return base / 2 + Math.random() * (base / 2);
  }

  /** Sends a request and parses the JSON answer (an empty body reads as `undefined`). */
  async requestJson<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    const text = await readLimitedText(
      response,
      MAX_API_RESPONSE_BYTES,
      `the answer to ${method} ${path}`,
    );
    if (text.trim() === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw apiErrorFromBadBody(method, this.url(path), err);
    }
  }

  /** GETs one object. */
  get<T>(path: string, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.requestJson<T>("GET", path, options);
  }

  /**
   * Lists a collection. With `limit`, pages are fetched one after another (following
   * `metadata.continue`) and their items concatenated.
   */
  async list<T>(
    path: string,
    options: {
      labelSelector?: string;
      fieldSelector?: string;
      limit?: number;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<KubeList<T>> {
    const query: Query = {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit,
    };
    const first = await this.get<KubeList<T>>(path, { ...options, query });
    const all: KubeList<T> = { ...first, items: [...(first.items ?? [])] };
    let next = first.metadata?.continue;
    while (next) {
      const page = await this.get<KubeList<T>>(path, {
        ...options,
        query: { ...query, continue: next },
      });
      all.items.push(...(page.items ?? []));
      next = page.metadata?.continue;
    }
    if (all.metadata) delete all.metadata.continue;
    return all;
  }

  /** POSTs a new object to a collection. */
  create<T>(path: string, object: unknown, options: WriteOptions = {}): Promise<T> {
    return this.requestJson<T>("POST", path, {
      body: object,
      query: writeQuery(options),
      signal: options.signal,
    });
  }

  /** PATCHes with a JSON merge patch (RFC 7386). */
  patchMerge<T>(path: string, patch: unknown, options: WriteOptions = {}): Promise<T> {
    return this.requestJson<T>("PATCH", path, {
      body: patch,
      contentType: "application/merge-patch+json",
      query: writeQuery(options),
      signal: options.signal,
    });
  }

  /**
   * Server-side apply of a whole object (field manager `datumctl` unless given). Retried like an
   * idempotent request: applying the same object twice has the same result.
   */
  apply<T>(
    path: string,
    object: unknown,
    options: WriteOptions & { force?: boolean } = {},
  ): Promise<T> {
    return this.requestJson<T>("PATCH", path, {
      // JSON is YAML, so the object goes as it is under the apply content type.
      body: object,
      contentType: "application/apply-patch+yaml",
      query: {
        ...writeQuery({ ...options, fieldManager: options.fieldManager ?? "datumctl" }),
        force: options.force ? true : undefined,
      },
      retry: true,
      signal: options.signal,
    });
  }

  /** DELETEs an object; returns what the server answers (the object or a `Status`). */
  delete<T = KubeStatus>(
    path: string,
    options: WriteOptions & { propagationPolicy?: "Foreground" | "Background" | "Orphan" } = {},
  ): Promise<T> {
    return this.requestJson<T>("DELETE", path, {
      query: writeQuery(options),
      body: options.propagationPolicy
        ? { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: options.propagationPolicy }
        : undefined,
      signal: options.signal,
    });
  }

  /**
   * Watches a collection: yields each event as soon as its line arrives (nothing is buffered
   * beyond one line). Stops when the server ends the stream or `signal` aborts; breaking out of
   * the loop closes the connection. A server-side `ERROR` event (e.g. 410 Gone when the
   * resourceVersion is too old) is thrown as an {@link ApiError}.
   */
  async *watch<T>(
    path: string,
    options: {
      resourceVersion?: string;
      labelSelector?: string;
      fieldSelector?: string;
      allowWatchBookmarks?: boolean;
      signal?: AbortSignal;
    } = {},
  ): AsyncGenerator<WatchEvent<T>> {
    // Datum's server may open a watch without resourceVersion with a 504 ResourceVersionTooLarge
    // ERROR event (its cache is behind): wait retryAfterSeconds and start again, a few times.
    for (let attempt = 0;; attempt++) {
      let started = false;
      try {
        for await (const event of this.#watchOnce<T>(path, options)) {
          started = true;
          yield event;
        }
        return;
      } catch (err) {
        const retryAfter = started || attempt >= 4 ? undefined : resourceVersionTooLarge(err);
        if (retryAfter === undefined) throw err;
        await sleep(retryAfter * 1000, options.signal);
      }
    }
  }

  async *#watchOnce<T>(
    path: string,
    options: {
      resourceVersion?: string;
      labelSelector?: string;
      fieldSelector?: string;
      allowWatchBookmarks?: boolean;
      signal?: AbortSignal;
    },
  ): AsyncGenerator<WatchEvent<T>> {
    const response = await this.request("GET", path, {
      query: {
        watch: true,
        resourceVersion: options.resourceVersion,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        allowWatchBookmarks: options.allowWatchBookmarks,
      },
      signal: options.signal,
    });
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        // Only the new text can hold a newline: scanning from its start keeps a long event linear.
        let from = pending.length;
        pending += value;
        let newline: number;
        while ((newline = pending.indexOf("\n", from)) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          from = 0;
          if (line) yield this.#watchEvent<T>(path, line);
        }
        // What is left is one unfinished event; it may not grow past the cap.
        if (pending.length > MAX_API_RESPONSE_BYTES) {
          throw new ResponseTooLargeError(
            `one event of the watch on ${path}`,
            MAX_API_RESPONSE_BYTES,
          );
        }
      }
      if (pending.trim()) yield this.#watchEvent<T>(path, pending.trim());
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  #watchEvent<T>(path: string, line: string): WatchEvent<T> {
    const url = this.url(path);
    let event: { type?: string; object?: unknown };
    try {
      event = JSON.parse(line);
    } catch (err) {
      throw apiErrorFromBadBody("WATCH", url, err);
    }
    if (event.type === "ERROR") {
      const status = (event.object ?? {}) as KubeStatus;
      throw apiErrorFromResponse(
        "WATCH",
        url,
        status.code ?? 500,
        "",
        JSON.stringify({ ...status, kind: "Status" }),
      );
    }
    return event as WatchEvent<T>;
  }
}

/** Seconds to wait before a new watch, for a 504 ResourceVersionTooLarge; else undefined. */
function resourceVersionTooLarge(err: unknown): number | undefined {
  if (!(err instanceof ApiError) || err.httpStatus !== 504) return undefined;
  const details = err.status?.details;
  const tooLarge = details?.causes?.some((c) => c.reason === "ResourceVersionTooLarge") ||
    /too large resource version/i.test(err.status?.message ?? "");
  if (!tooLarge) return undefined;
  return Math.min(Math.max(details?.retryAfterSeconds ?? 1, 0), 10);
}

function writeQuery(options: WriteOptions): Query {
  return {
    dryRun: options.dryRun ? "All" : undefined,
    fieldManager: options.fieldManager,
  };
}
