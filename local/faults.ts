/**
 * Fault switches of the local stack: failures Datum's real servers produce now and then, made
 * on demand so the CLI's retry and recovery paths can be exercised.
 *
 * The switch board is live and shared by the provider and the emulator, and each fault answers with
 * the exact message Datum sends.
 */

/** Body of the front end's transient 503. */
export const UPSTREAM_RESET_MESSAGE =
  "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

/** Message of the transient quota-check 403 on create. */
export const QUOTA_TIMEOUT_MESSAGE =
  "Your request took too long to be checked against your quota. Please try again in a moment — if this keeps happening, contact support.";

/** Names accepted by `setFault` and `POST /_local/faults/{name}`. */
export const FAULT_NAMES = [
  "api-503",
  "token-503",
  "quota-timeout",
  "revoked-refresh-tokens",
  "delete-lease",
  "iroh-owner-flip",
  "device-denied",
  "device-slow-down",
  "watch-rv-too-large",
] as const;

/**
 * The first event of a watch Datum's server may send when started without a resourceVersion
 * (its watch cache is behind): 504 Timeout, cause ResourceVersionTooLarge, retry after 1 s.
 */
export const WATCH_TOO_LARGE_EVENT = {
  type: "ERROR",
  object: {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "Timeout: Too large resource version: 1, current: 0",
    reason: "Timeout",
    details: {
      causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
      retryAfterSeconds: 1,
    },
    code: 504,
  },
};

/** One of {@link FAULT_NAMES}. */
export type FaultName = typeof FAULT_NAMES[number];

/** The counting and boolean switches (the two action faults live in the controllers). */
export class Faults {
  /** How many upcoming API requests answer 503 (front-end reset). */
  api503 = 0;
  /** How many upcoming token-endpoint requests answer 503 (front-end reset). */
  token503 = 0;
  /** How many upcoming creates answer the quota-check-timeout 403. */
  quotaTimeout = 0;
  /** While true, every refresh_token grant answers invalid_grant. */
  revokedRefreshTokens = false;
  /** How many upcoming device codes the user denies (as with the "deny" button). */
  deviceDenied = 0;
  /** How many upcoming device_code token polls answer `slow_down`. */
  deviceSlowDown = 0;

  /** Takes one 503 from the burst, if any is left. */
  take503(): boolean {
    if (this.api503 <= 0) return false;
    this.api503--;
    return true;
  }

  /** Takes one token-endpoint 503 from the burst, if any is left. */
  takeToken503(): boolean {
    if (this.token503 <= 0) return false;
    this.token503--;
    return true;
  }

  /** Takes one quota-timeout 403, if any is left. */
  takeQuotaTimeout(): boolean {
    if (this.quotaTimeout <= 0) return false;
    this.quotaTimeout--;
    return true;
  }

  /** Takes one denial from the burst, if any is left. */
  takeDeviceDenied(): boolean {
    if (this.deviceDenied <= 0) return false;
    this.deviceDenied--;
    return true;
  }

  /** Takes one `slow_down` answer from the burst, if any is left. */
  /** The next N watches start with {@link WATCH_TOO_LARGE_EVENT} and end. */
  watchTooLarge = 0;

  takeWatchTooLarge(): boolean {
    if (this.watchTooLarge <= 0) return false;
    this.watchTooLarge--;
    return true;
  }

  takeDeviceSlowDown(): boolean {
    if (this.deviceSlowDown <= 0) return false;
    this.deviceSlowDown--;
    return true;
  }

  /** The current switch positions, for `GET /_local/faults`. */
  snapshot(): Record<string, unknown> {
    return {
      "api-503": this.api503,
      "token-503": this.token503,
      "quota-timeout": this.quotaTimeout,
      "revoked-refresh-tokens": this.revokedRefreshTokens,
      "device-denied": this.deviceDenied,
      "device-slow-down": this.deviceSlowDown,
      "watch-rv-too-large": this.watchTooLarge,
    };
  }
}

/** Reads a count from a fault value: a number, `true` (= 1), `false`/null (= 0) or `{count}`. */
export function faultCount(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return Math.max(0, Math.floor(value));
  if (value === true) return 1;
  if (value === false || value === null || value === undefined) return 0;
  if (typeof value === "object" && value && "count" in value) {
    return faultCount((value as { count: unknown }).count);
  }
  throw new TypeError("expected a count (a number, true/false, or {count})");
}
