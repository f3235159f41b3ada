/**
 * The quota-check-timeout retry every create goes through: Datum's quota webhook sometimes
 * answers a create with a 403 "took too long to be checked against your quota", which is
 * transient. It is retried after 1, 2, 4 and 8 s, then once more (~15 s); every other 403 fails
 * at once.
 */

/** The substring that marks the transient quota timeout. */
export const QUOTA_TIMEOUT_PHRASE = "took too long to be checked against your quota";

/** Sleeps between attempts; after the last one, one final attempt. */
export const QUOTA_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000] as const;

/** True for the 403 quota-check timeout, whatever error object carries it. */
export function isQuotaCheckTimeout(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as Record<string, unknown>;
  // ApiError carries the HTTP status as `httpStatus` (its `status` is the Kubernetes Status body).
  const status = [e.httpStatus, e.statusCode, e.status, e.code].find((x) => typeof x === "number");
  if (status !== undefined && status !== 403) return false;
  return typeof e.message === "string" && e.message.includes(QUOTA_TIMEOUT_PHRASE);
}

/** The stderr line printed at the first retry of `operation` (e.g. `create HTTPProxy`). */
export function quotaRetryNotice(operation: string): string {
  return `… quota check timed out for ${operation}; retrying for up to 15s`;
}

/** Options for {@link withQuotaCheckRetry}. */
export interface QuotaRetryOptions {
  /** Called once, before the first retry, with {@link quotaRetryNotice}'s text. */
  onNotice?: (text: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Stops waiting early (e.g. the setup deadline or Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Runs `attempt`, retrying only the quota-check timeout. When retries run out the server's own
 * error is thrown (never a "quota exceeded" rewording).
 */
export async function withQuotaCheckRetry<T>(
  operation: string,
  attempt: () => Promise<T>,
  options: QuotaRetryOptions = {},
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, options.signal));
  for (let i = 0;; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isQuotaCheckTimeout(err) || i >= QUOTA_RETRY_DELAYS_MS.length) throw err;
      if (options.signal?.aborted) throw err;
      if (i === 0) options.onNotice?.(quotaRetryNotice(operation));
      await sleep(QUOTA_RETRY_DELAYS_MS[i]);
    }
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
